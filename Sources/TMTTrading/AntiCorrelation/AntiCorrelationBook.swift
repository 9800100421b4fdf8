import TMTBase
import TMTModels

/// The per-account state anti-correlation judges against: open positions (from
/// `positions.updates`), orders already let through but not yet filled (so the orders one signal
/// fans out to several accounts see each other, although none has filled yet), and one rolling
/// equity series per correlation window (from `accounts.updates`). A plain value: the agent owns
/// one and feeds it; the engine reads it.
public struct AntiCorrelationBook: Sendable, Equatable {
    /// An order published on `orders.decorrelated` and not yet seen in a fill.
    public struct PendingOrder: Sendable, Equatable {
        /// Instrument symbol.
        public var instrument: String
        /// Signed lots: positive buy, negative sell.
        public var lots: Decimal
        /// When it was let through, µs since the epoch (for `expirePending`).
        public var since: Int64
    }

    /// What the book holds for one account.
    public struct AccountState: Sendable, Equatable {
        /// Signed lots per instrument symbol (flat instruments removed).
        public var positions: [String: Decimal] = [:]
        /// Let-through orders awaiting their first fill, by order id.
        public var pending: [String: PendingOrder] = [:]
        /// Orders known to have ended (filled, blocked or cancelled downstream), with when that
        /// was learnt, µs: a let-through record read after the end is not counted again. The agent
        /// reads the let-through orders, the fills and the blocked orders from different topics,
        /// in no guaranteed order between them, so after a restart an order's fill can come
        /// before its let-through record. Kept as long as pending orders are.
        public var ended: [String: Int64] = [:]
        /// Equity series per window name.
        public var series: [String: RollingSeries]
        /// The account's challenge (`Account.epoch`) all of the above belongs to.
        public var epoch: Int = 0
    }

    /// The windows the series are shaped for.
    public let windows: [CorrelationWindow]
    /// State per account id.
    public private(set) var accounts: [String: AccountState] = [:]

    /// An empty book whose series follow `windows`.
    public init(windows: [CorrelationWindow]) {
        self.windows = windows
    }

    /// Account ids known to the book, sorted.
    public var accountIds: [String] { accounts.keys.sorted() }

    /// Makes `accountId` known (so it appears in the matrix) without any data yet.
    public mutating func register(accountId: String) {
        if accounts[accountId] == nil {
            accounts[accountId] = AccountState(series: Dictionary(uniqueKeysWithValues: windows.map { ($0.name, $0.makeSeries()) }))
        }
    }

    /// The challenge (`Account.epoch`) the book's state of the account belongs to; nil when unknown.
    public func epoch(of accountId: String) -> Int? { accounts[accountId]?.epoch }

    /// An account's epoch as an update carries it. A higher one than the book's means the
    /// account was restarted (`account.restart`): its pending orders and equity series start
    /// again empty — the jump back to the initial balance is not a return, and the previous
    /// challenge's let-through orders will never fill. Its positions are left to
    /// `positions.updates` (the engine publishes a flat update for each held instrument, in order
    /// with the account's other positions; a new challenge's first position may arrive before
    /// the account update). Returns whether it restarted.
    @discardableResult
    public mutating func observe(epoch: Int, accountId: String) -> Bool {
        register(accountId: accountId)
        guard let current = accounts[accountId], epoch > current.epoch else { return false }
        var fresh = AccountState(series: Dictionary(uniqueKeysWithValues: windows.map { ($0.name, $0.makeSeries()) }))
        fresh.positions = current.positions
        fresh.epoch = epoch
        accounts[accountId] = fresh
        return true
    }

    /// Replaces the account's position in the instrument (netted, signed lots).
    public mutating func update(position: Position) {
        register(accountId: position.accountId)
        accounts[position.accountId]?.positions[position.instrument] = position.quantity == 0 ? nil : position.quantity
    }

    /// Remembers an order let through with `quantity` lots (the possibly reduced size) at `time`
    /// (µs), counted in its account's exposure until its first fill, its end (`forget`: blocked,
    /// cancelled, expired or rejected downstream) or its expiry (a safety net). Keyed by
    /// order id, so a redelivered order is not counted twice; one known to have ended already
    /// (`apply(fill:at:)`, `forget`) is not counted at all.
    public mutating func recordForwarded(_ order: Order, quantity: Decimal, at time: Int64) {
        register(accountId: order.accountId)
        guard accounts[order.accountId]?.ended[order.id] == nil else { return }
        accounts[order.accountId]?.pending[order.id] = PendingOrder(instrument: order.instrument, lots: order.side.sign * quantity,
                                                                    since: time)
    }

    /// A fill ends its order's pending exposure: from then on `positions.updates` carries it.
    /// (The position update may lag the fill by a moment; counting neither for that moment
    /// under-states exposure briefly, counting both would double it.)
    /// `time` (µs) is when the fill was read, for how long its end is remembered.
    public mutating func apply(fill: Fill, at time: Int64) {
        end(orderId: fill.orderId, accountId: fill.accountId, at: time)
    }

    /// The orders counted as pending that were let through before `time` (µs), oldest first:
    /// the ones whose end the agent looks up in the database in case it was never published.
    public func pendingOrders(letThroughBefore time: Int64) -> [(accountId: String, orderId: String)] {
        var found: [(accountId: String, orderId: String, since: Int64)] = []
        for (accountId, state) in accounts {
            for (orderId, order) in state.pending where order.since < time { found.append((accountId, orderId, order.since)) }
        }
        return found.sorted { ($0.since, $0.orderId) < ($1.since, $1.orderId) }.map { ($0.accountId, $0.orderId) }
    }

    /// Whether the order is counted as pending in its account's exposure.
    public func isPending(orderId: String, accountId: String) -> Bool {
        accounts[accountId]?.pending[orderId] != nil
    }

    /// Forgets a pending order that will not fill (any further): blocked, cancelled, expired or
    /// rejected downstream, learnt at `time` (µs).
    public mutating func forget(orderId: String, accountId: String, at time: Int64) {
        end(orderId: orderId, accountId: accountId, at: time)
    }

    private mutating func end(orderId: String, accountId: String, at time: Int64) {
        register(accountId: accountId)
        accounts[accountId]?.pending[orderId] = nil
        let known = accounts[accountId]?.ended[orderId] ?? time
        accounts[accountId]?.ended[orderId] = max(known, time)
    }

    /// Drops pending orders let through before `cutoff` (µs): an order whose end was never
    /// published nor stored (dead-lettered downstream) must not weigh on its account for ever.
    /// Ends learnt before `endsBefore` (µs; by default the same cutoff) are forgotten: a
    /// let-through record read that much later than its order's end is not expected.
    public mutating func expirePending(before cutoff: Int64, endsBefore: Int64? = nil) {
        let endCutoff = endsBefore ?? cutoff
        for (id, state) in accounts where !state.pending.isEmpty || !state.ended.isEmpty {
            accounts[id]?.pending = state.pending.filter { $0.value.since >= cutoff }
            accounts[id]?.ended = state.ended.filter { $0.value >= endCutoff }
        }
    }

    /// Records the account's equity at `time` (µs since the epoch) in every window's series.
    public mutating func record(equity: Decimal, accountId: String, at time: Int64) {
        register(accountId: accountId)
        for window in windows {
            accounts[accountId]?.series[window.name]?.record(equity, at: time)
        }
    }

    /// The account's exposure vector (positions plus pending orders), with the instruments
    /// `pricing` cannot value left out (their symbols are returned so callers can say so).
    public func exposure(of accountId: String, pricing: ExposurePricing) -> (vector: ExposureVector, unpriced: [String]) {
        guard let state = accounts[accountId] else { return (ExposureVector(), []) }
        var lotsBySymbol = state.positions
        for pending in state.pending.values { lotsBySymbol[pending.instrument, default: 0] += pending.lots }
        var values: [String: Decimal] = [:]
        var unpriced: [String] = []
        for (symbol, lots) in lotsBySymbol.sorted(by: { $0.key < $1.key }) where lots != 0 {
            if let n = pricing.notional(of: symbol, lots: lots) { values[symbol] = n } else { unpriced.append(symbol) }
        }
        return (ExposureVector(values), unpriced)
    }

    /// The account's bucket returns in `window` as of `now` (µs); empty when unknown.
    public func returns(of accountId: String, window: CorrelationWindow, asOf now: Int64) -> [Int64: Double] {
        accounts[accountId]?.series[window.name]?.returns(asOf: now) ?? [:]
    }
}
