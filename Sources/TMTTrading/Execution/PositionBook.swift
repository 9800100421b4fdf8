import TMTBase
import TMTModels

/// One account's netted positions, one per instrument: fills in the same direction average in,
/// fills against the position realise P&L on the part they close and flip it when larger.
///
/// Rounding: the average price is kept to `averagePriceScale` places and realised P&L is
/// rounded per fill to `moneyScale` places, both half-to-even; P&L of a later close is measured
/// from the stored (rounded) average, so replaying the fills through a fresh book reproduces
/// every position and every booked amount exactly.
public struct PositionBook: Codable, Sendable, Equatable {
    /// The account the positions belong to.
    public let accountId: String
    /// Positions by instrument symbol, including flat ones (they keep their realised P&L).
    public private(set) var entries: [String: BookedPosition]

    /// An empty book, or one restored from stored positions (e.g. after a restart).
    public init(accountId: String, positions: [BookedPosition] = []) {
        self.accountId = accountId
        entries = Dictionary(positions.map { ($0.position.instrument, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The position in `instrument` (flat if there has never been one).
    public func position(_ instrument: String) -> Position {
        entries[instrument]?.position ?? Position(accountId: accountId, instrument: instrument)
    }

    /// The position with its protective levels.
    public func entry(_ instrument: String) -> BookedPosition {
        entries[instrument] ?? BookedPosition(position: position(instrument))
    }

    /// Positions that are not flat, by symbol.
    public var openPositions: [BookedPosition] {
        entries.values.filter { $0.position.quantity != 0 }.sorted { $0.position.instrument < $1.position.instrument }
    }

    /// Applies `fill` to its instrument's position.
    ///
    /// - Parameters:
    ///   - contractSize: units per lot of the instrument.
    ///   - conversionRate: account currency per unit of the instrument's quote currency at the fill.
    ///   - moneyScale, averagePriceScale: see `FillModelConfiguration`.
    ///   - stopLoss, takeProfit: protective levels of the order behind the fill. When the fill
    ///     opens, adds to or flips the position and the order carries either level, both replace
    ///     the position's levels; adding without levels keeps the existing ones. A flip without
    ///     levels clears them (they were for the other direction), and so does going flat.
    ///   - sourceOrderId, sourceSignalId: recorded when the fill opens, adds or flips.
    @discardableResult
    public mutating func apply(_ fill: Fill, contractSize: Decimal, conversionRate: Decimal, moneyScale: Int,
                               averagePriceScale: Int, stopLoss: Decimal? = nil, takeProfit: Decimal? = nil,
                               sourceOrderId: String? = nil, sourceSignalId: String? = nil) -> PositionChange {
        var entry = self.entry(fill.instrument)
        let before = entry.position
        let q = before.quantity
        let signedFill = fill.side.sign * fill.quantity
        var after = before
        after.quantity = q + signedFill
        var closed: Decimal = 0
        var opened: Decimal = 0
        var pnlQuote: Decimal = 0

        if q == 0 || ExecutionMath.sign(q) == fill.side.sign {
            opened = fill.quantity
            let held = ExecutionMath.abs(q)
            after.averagePrice = ExecutionMath.round((held * before.averagePrice + fill.quantity * fill.price) / (held + fill.quantity),
                                                     scale: averagePriceScale)
        } else {
            closed = min(ExecutionMath.abs(q), fill.quantity)
            opened = fill.quantity - closed
            // A long gains when it exits above its entry, a short when below: the sign of the
            // position orients the price difference.
            pnlQuote = closed * (fill.price - before.averagePrice) * contractSize * ExecutionMath.sign(q)
            if after.quantity == 0 {
                after.averagePrice = 0
            } else if opened > 0 {
                after.averagePrice = fill.price
            }
        }
        let realized = ExecutionMath.round(pnlQuote * conversionRate, scale: moneyScale)
        after.realizedPnL += realized

        // Opened from flat or flipped: held from this fill; flat: held from nowhere; adds and
        // partial closes keep the time the position was opened.
        if after.quantity == 0 {
            after.openedAt = nil
        } else if q == 0 || ExecutionMath.sign(after.quantity) != ExecutionMath.sign(q) {
            after.openedAt = fill.time
        }
        entry.position = after
        let hasLevels = stopLoss != nil || takeProfit != nil
        if after.quantity == 0 {
            entry.stopLoss = nil
            entry.takeProfit = nil
            entry.openedBy = nil
        } else if opened > 0 {
            let flipped = closed > 0
            if q == 0 || flipped { entry.openedBy = sourceOrderId ?? fill.orderId }
            if hasLevels || flipped {
                entry.stopLoss = stopLoss
                entry.takeProfit = takeProfit
            }
            entry.sourceOrderId = sourceOrderId ?? entry.sourceOrderId
            entry.sourceSignalId = sourceSignalId ?? entry.sourceSignalId
        }
        entries[fill.instrument] = entry
        return PositionChange(before: before, after: after, closedQuantity: closed, openedQuantity: opened,
                              realizedPnLInQuote: pnlQuote, conversionRate: conversionRate, realizedPnL: realized)
    }

    /// Sets (or clears, with nil) the protective levels of an open position; no effect when flat.
    public mutating func setProtectiveLevels(_ instrument: String, stopLoss: Decimal?, takeProfit: Decimal?) {
        guard var entry = entries[instrument], entry.position.quantity != 0 else { return }
        entry.stopLoss = stopLoss
        entry.takeProfit = takeProfit
        entries[instrument] = entry
    }
}
