import TMTBase
import TMTModels

/// An order the execution engine holds between ticks: the order itself (its status follows the
/// lifecycle), when it reaches the market, how much has filled, and how long it may work.
/// Codable so the agent can store it with the order and restore it after a restart.
public struct WorkingOrder: Codable, Sendable, Equatable {
    /// The order; `status` moves cleared → pending / partiallyFilled / filled / cancelled /
    /// expired, and every change appends the engine's decision.
    public var order: Order
    /// How long it works.
    public var timeInForce: TimeInForce
    /// When the engine received it, µs on the market clock.
    public var receivedAt: Int64
    /// Simulated latency, µs (seeded by the order id).
    public var latencyMicros: Int64
    /// Lots filled so far.
    public var filledQuantity: Decimal
    /// Σ price × lots of the fills so far (for the average fill price).
    public var filledNotional: Decimal
    /// Fills so far; the next fill's sequence number is `fillCount + 1`.
    public var fillCount: Int
    /// When a stop order's trigger was hit (it then works as a market order), µs.
    public var triggeredAt: Int64?
    /// Set when the engine itself created the order to close a position at its stop or target.
    public var protective: ProtectiveKind?
    /// For a protective close: the order that opened the position it closes (the position's
    /// `openedBy` then). Once the open position was opened by another order (it went flat and
    /// opened again, or flipped), the close is cancelled instead of closing that one at the old
    /// level; orders adding to the position meanwhile do not change it. Nil when unknown.
    public var protects: String?
    /// Why the order ended when it did not fill completely.
    public var closeReason: String?

    public init(order: Order, timeInForce: TimeInForce, receivedAt: Int64, latencyMicros: Int64, protective: ProtectiveKind? = nil,
                protects: String? = nil) {
        self.order = order
        self.timeInForce = timeInForce
        self.receivedAt = receivedAt
        self.latencyMicros = latencyMicros
        filledQuantity = 0
        filledNotional = 0
        fillCount = 0
        triggeredAt = nil
        self.protective = protective
        self.protects = protects
        closeReason = nil
    }

    /// When the order reaches the market: received + latency, µs.
    public var arrivalTime: Int64 { receivedAt + latencyMicros }
    /// Lots still to fill.
    public var remainingQuantity: Decimal { order.quantity - filledQuantity }
    /// When it stops working, if ever (µs).
    public var expiresAt: Int64? { timeInForce.expiresAt }
    /// Whether the order has reached a terminal status.
    public var isDone: Bool { order.status.isTerminal }
    /// Volume-weighted price of the fills so far, exact; nil before the first fill.
    public var averageFillPrice: Decimal? { filledQuantity > 0 ? filledNotional / filledQuantity : nil }

    /// The id of this order's `sequence`-th fill (1-based): deterministic, so a replayed order
    /// produces the same fill ids and the database's `ON CONFLICT DO NOTHING` drops duplicates.
    public static func fillId(orderId: String, sequence: Int) -> String { "\(orderId)#\(sequence)" }
}
