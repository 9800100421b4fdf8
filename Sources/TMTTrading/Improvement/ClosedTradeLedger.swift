import TMTBase
import TMTModels

/// Rebuilds round trips from the execution engine's fills, the way the engine's netted
/// `PositionBook` saw them: per account and instrument, fills that open or add to a position
/// move its volume-weighted entry; each order that closes (part of) it is one `ClosedTrade` from
/// the position's entry to that order's fills. The engine writes one fill per depth level and
/// pass, so the closing fills of one order are merged into one trade (quantity-weighted exit
/// price, summed P&L and commission, the last fill's time); counting them apart would inflate
/// the sample counts every statistic and test relies on. The pattern and experiment of a trade
/// are those of the signal whose order opened the position (a stop-loss or take-profit close
/// carries the position's signal, a closing signal of another pattern does not change who gets
/// the credit).
///
/// P&L is the sum of the closing fills' `realizedPnL` as the engine booked it (already in the
/// account currency); commission is the closing fills' plus the closed share of the opening
/// fills' commissions, so `ClosedTrade.netPnL` is what the round trip really earned, and the
/// net P&L of every trade plus the commission of what is still open is exactly the balance
/// change the engine booked.
public struct ClosedTradeLedger: Sendable {
    /// One row of the fills table with the pattern of its order's signal.
    public struct FillRecord: Sendable, Equatable {
        public var id: String
        public var orderId: String
        public var accountId: String
        public var instrument: String
        public var side: Side
        /// Lots.
        public var quantity: Decimal
        public var price: Decimal
        /// Commission in the account currency.
        public var commission: Decimal
        /// P&L the fill realised, account currency, before commission.
        public var realizedPnL: Decimal
        /// µs since the epoch.
        public var time: Int64
        /// The pattern of the signal behind the fill's order, nil when the order had none.
        public var pattern: String?
        /// The experiment tag of that signal (`evidence["experiment"]`), nil for a baseline signal.
        public var experiment: String?
        /// The account's challenge (`Account.epoch`) the fill was booked in: positions are
        /// replayed per challenge, so one left open when the account was restarted (dropped
        /// without a fill) never pairs with the next challenge's fills.
        public var accountEpoch: Int
        /// When the fill's order was created, µs since the epoch on the wall clock; nil when unknown.
        public var orderedAt: Int64?

        public init(id: String, orderId: String, accountId: String, instrument: String, side: Side, quantity: Decimal,
                    price: Decimal, commission: Decimal, realizedPnL: Decimal, time: Int64, pattern: String?,
                    experiment: String? = nil, accountEpoch: Int = 0, orderedAt: Int64? = nil) {
            self.id = id
            self.orderId = orderId
            self.accountId = accountId
            self.instrument = instrument
            self.side = side
            self.quantity = quantity
            self.price = price
            self.commission = commission
            self.realizedPnL = realizedPnL
            self.time = time
            self.pattern = pattern
            self.experiment = experiment
            self.accountEpoch = accountEpoch
            self.orderedAt = orderedAt
        }
    }

    /// The outcome of a replay: the closed trades and what is still open.
    public struct Replay: Sendable, Equatable {
        /// Closed trades, sorted by exit time and id.
        public var trades: [ClosedTrade]
        /// Opening commission of the positions still open, not yet charged to any trade.
        public var openCommission: Decimal
    }

    /// The label of a position opened by an order without a signal.
    public static let unattributed = "unattributed"

    /// Contract facts; a symbol missing here counts one unit per lot.
    public let instruments: [String: Instrument]
    /// Decimal places of the volume-weighted entry (the engine's `averagePriceScale`). Default 10.
    public let averagePriceScale: Int
    /// Decimal places of a trade's commission share (the engine's `moneyScale`). Default 4.
    public let moneyScale: Int

    public init(instruments: [String: Instrument] = Instrument.catalog, averagePriceScale: Int = 10, moneyScale: Int = 4) {
        self.instruments = instruments
        self.averagePriceScale = averagePriceScale
        self.moneyScale = moneyScale
    }

    fileprivate struct Open: Sendable {
        var quantity: Decimal = 0
        var averagePrice: Decimal = 0
        var openedAt: Int64 = 0
        var pattern = ClosedTradeLedger.unattributed
        var experiment: String?
        var orderedAt: Int64?
        /// Opening commission not yet charged to a closed trade.
        var commission: Decimal = 0
        /// The trade each order closing this position is building, by order id.
        var closing: [String: Closing] = [:]
    }

    /// One order's closing fills so far: where its trade is, and the lots and notional behind
    /// the quantity-weighted exit price.
    fileprivate struct Closing: Sendable {
        var index: Int
        var lots: Decimal
        var notional: Decimal
    }

    /// The closed trades in `fills` (any order: they are replayed per account and instrument by
    /// time, then by fill sequence), sorted by exit time and id.
    public func trades(from fills: [FillRecord]) -> [ClosedTrade] {
        replay(fills).trades
    }

    /// Replays `fills` like `trades(from:)` and also reports the commission of what is still open.
    public func replay(_ fills: [FillRecord]) -> Replay {
        var progress = Progress()
        _ = fold(fills, into: &progress)
        return progress.replay
    }

    /// A replay's state after the fills folded so far, for a reader that learns fills a few at a
    /// time (`TradeHistory`): later fills are folded on instead of replaying every fill again.
    public struct Progress: Sendable {
        fileprivate var books: [BookKey: Open] = [:]
        /// Trades in the order they were opened by a closing fill.
        fileprivate var trades: [ClosedTrade] = []
        /// Each book's last fill folded: a book's fills must be folded in replay order (books
        /// are independent: the order across them changes nothing).
        fileprivate var last: [BookKey: FillRecord] = [:]

        public init() {}

        /// What the fills folded so far replay to, as `replay` reports it.
        public var replay: Replay {
            Replay(trades: trades.sorted { ($0.exitTime, $0.id) < ($1.exitTime, $1.id) },
                   openCommission: books.values.reduce(Decimal(0)) { $0 + $1.commission })
        }
    }

    /// Folds `fills` (any order among themselves) into `progress`, as if they had been part of
    /// the fills it was built from. Returns false, leaving `progress` as it was, when one of them
    /// comes before the last fill of its position's book folded already (replay order), or is
    /// that fill: only a replay from the start gives the right trades then.
    public func fold(_ fills: [FillRecord], into progress: inout Progress) -> Bool {
        let ordered = fills.sorted(by: Self.replayOrder)
        var last = progress.last
        for f in ordered {
            let key = BookKey(f)
            if let previous = last[key], !Self.replayOrder(previous, f) { return false }
            last[key] = f
        }
        progress.last = last
        for f in ordered where f.quantity > 0 { apply(f, to: &progress) }
        return true
    }

    /// One fill: adds to its position (same side, or from flat), or closes it (in part, or
    /// flipping it), building the closing order's trade.
    private func apply(_ f: FillRecord, to progress: inout Progress) {
        let key = BookKey(f)
        var p = progress.books[key] ?? Open()
        let contract = instruments[f.instrument]?.contractSize ?? 1
        let signedFill = f.side.sign * f.quantity
        if p.quantity == 0 || (p.quantity > 0) == (signedFill > 0) {
            if p.quantity == 0 {
                p.openedAt = f.time
                p.pattern = f.pattern ?? Self.unattributed
                p.experiment = f.experiment
                p.orderedAt = f.orderedAt
            }
            let held = abs(p.quantity)
            p.averagePrice = ExecutionMath.round((held * p.averagePrice + f.quantity * f.price) / (held + f.quantity),
                                                 scale: averagePriceScale)
            p.quantity += signedFill
            p.commission += f.commission
        } else {
            let held = abs(p.quantity)
            let closed = min(held, f.quantity)
            let opened = f.quantity - closed
            let entryShare = closed == held ? p.commission : ExecutionMath.round(p.commission * closed / held, scale: moneyScale)
            let exitShare = opened == 0 ? f.commission : ExecutionMath.round(f.commission * closed / f.quantity, scale: moneyScale)
            if var c = p.closing[f.orderId] {
                // Another level or pass of an order that is already closing this position.
                c.lots += closed
                c.notional += closed * f.price
                progress.trades[c.index].exitTime = f.time / 1000
                progress.trades[c.index].exitPrice = ExecutionMath.round(c.notional / c.lots, scale: averagePriceScale)
                progress.trades[c.index].quantity = c.lots * contract
                progress.trades[c.index].pnl += f.realizedPnL
                progress.trades[c.index].commission += entryShare + exitShare
                p.closing[f.orderId] = c
            } else {
                p.closing[f.orderId] = Closing(index: progress.trades.count, lots: closed, notional: closed * f.price)
                progress.trades.append(ClosedTrade(id: f.id, account: f.accountId, instrument: f.instrument, pattern: p.pattern,
                                          side: p.quantity > 0 ? .buy : .sell, entryTime: p.openedAt / 1000,
                                          entryPrice: p.averagePrice, exitTime: f.time / 1000, exitPrice: f.price,
                                          quantity: closed * contract, pnl: f.realizedPnL, commission: entryShare + exitShare,
                                          experiment: p.experiment, orderedAt: p.orderedAt.map { $0 / 1000 }))
            }
            p.commission -= entryShare
            p.quantity += signedFill
            if p.quantity == 0 {
                p = Open()
            } else if opened > 0 {
                // Flipped: the rest of the fill opens a position the other way.
                p = Open(quantity: p.quantity, averagePrice: f.price, openedAt: f.time, pattern: f.pattern ?? Self.unattributed,
                         experiment: f.experiment, orderedAt: f.orderedAt, commission: f.commission - exitShare)
            }
        }
        progress.books[key] = p
    }

    /// A position's book: per account, challenge and instrument.
    fileprivate struct BookKey: Hashable, Sendable {
        var account: String
        var epoch: Int
        var instrument: String

        init(_ f: FillRecord) {
            account = f.accountId
            epoch = f.accountEpoch
            instrument = f.instrument
        }
    }

    /// Time, then the fill's sequence within its order (`<order>#<n>`, numerically), then id.
    static func replayOrder(_ a: FillRecord, _ b: FillRecord) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.orderId == b.orderId, let x = sequence(a.id), let y = sequence(b.id), x != y { return x < y }
        return a.id < b.id
    }

    private static func sequence(_ id: String) -> Int? {
        guard let hash = id.lastIndex(of: "#") else { return nil }
        return Int(id[id.index(after: hash)...])
    }

    private func abs(_ x: Decimal) -> Decimal { x < 0 ? -x : x }
}
