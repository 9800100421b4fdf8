import TMTBase
import TMTModels

/// A netted position together with the protective levels the engine checks on every tick and
/// the order that set them.
public struct BookedPosition: Codable, Sendable, Equatable {
    /// Signed lots, average entry and lifetime realised P&L (account currency, booked amounts).
    public var position: Position
    /// Closes the position when the closing side of the quote reaches it (a long's bid ≤ stop,
    /// a short's ask ≥ stop); nil = none.
    public var stopLoss: Decimal?
    /// Closes the position when the closing side reaches it (a long's bid ≥ target, a short's
    /// ask ≤ target); nil = none.
    public var takeProfit: Decimal?
    /// The order that last opened, added to or flipped the position.
    public var sourceOrderId: String?
    /// That order's signal, so a protective close can be attributed to the signal that opened it.
    public var sourceSignalId: String?
    /// The order whose fill opened the position from flat or flipped it; unchanged when orders
    /// add to it. A protective close is tied to it (`WorkingOrder.protects`). Nil when unknown
    /// (a position loaded from the database: its row keeps only `sourceOrderId`).
    public var openedBy: String?

    public init(position: Position, stopLoss: Decimal? = nil, takeProfit: Decimal? = nil, sourceOrderId: String? = nil,
                sourceSignalId: String? = nil) {
        self.position = position
        self.stopLoss = stopLoss
        self.takeProfit = takeProfit
        self.sourceOrderId = sourceOrderId
        self.sourceSignalId = sourceSignalId
    }
}
