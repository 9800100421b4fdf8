import TMTBase
import TMTModels

/// The paper execution core: takes cleared orders, fills them against live quotes through the
/// `FillModel`, keeps pending limit/stop orders and protective stops/targets, checks margin, and
/// books fills into netted positions and an exact ledger. Pure: every call takes values and
/// returns values (the order, the ledger, the fills, a decision); the agent persists them in one
/// transaction and keeps the returned order and ledger for the next call.
///
/// Time: every time here is µs on the *market clock*, the timeline of the ticks (the generator
/// may simulate another epoch or speed than the wall clock). `MarketClock` extrapolates it
/// between ticks for timers.
///
/// Latency: `accept` draws the order's latency (seeded by its id); the order reaches the market
/// at received + latency. `execute` fills it against the first quote at or after that arrival
/// time. If no newer tick comes within `quoteWaitMilliseconds` after arrival, a later `execute`
/// (driven by `nextCheckAt`) fills against the latest quote instead, which is then exactly the
/// quote in force at arrival, unless that quote is older than `maxQuoteAgeSeconds` (market
/// closed): then the order waits for a fresh tick, and fills at the gapped price if one comes
/// before its expiry.
public struct ExecutionEngine: Sendable {
    /// The agent name on every decision this engine makes.
    public static let agentName = "execution-engine"

    /// The market model.
    public let model: FillModel

    public init(model: FillModel) {
        self.model = model
    }

    /// An engine over a fill model built from `configuration` (validated).
    public init(configuration: FillModelConfiguration = .staging) throws(TMTError) {
        self.model = try FillModel(configuration: configuration)
    }

    /// Takes a cleared order for execution: draws its latency and sets its time in force
    /// (default: market orders work `marketOrderTimeToLiveSeconds` past arrival, limit/stop
    /// orders `pendingOrderTimeToLiveSeconds` past arrival or until cancelled).
    ///
    /// - Parameter receivedAt: when the engine received it, µs on the market clock.
    /// - Throws: `lifecycle` unless the order's status is `cleared`.
    public func accept(_ order: Order, receivedAt: Int64, timeInForce: TimeInForce? = nil) throws(ExecutionError) -> WorkingOrder {
        guard order.status == .cleared else {
            throw ExecutionError(.lifecycle, "order \(order.id) is \(order.status.rawValue); execution takes cleared orders")
        }
        let latency = model.latencyMicros(orderId: order.id)
        let arrival = receivedAt + latency
        let c = model.configuration
        let tif: TimeInForce
        if let timeInForce {
            tif = timeInForce
        } else if order.type == .market {
            tif = .goodTill(expiresAt: arrival + Self.micros(seconds: c.marketOrderTimeToLiveSeconds))
        } else if let ttl = c.pendingOrderTimeToLiveSeconds {
            tif = .goodTill(expiresAt: arrival + Self.micros(seconds: ttl))
        } else {
            tif = .goodTillCancelled
        }
        return WorkingOrder(order: order, timeInForce: tif, receivedAt: receivedAt, latencyMicros: latency)
    }

    /// Works `order` against `quote` (the latest quote of its instrument) at market time `now`.
    ///
    /// - Parameters:
    ///   - ledger: the order's account, as returned by the previous call.
    ///   - rates: latest quotes of all instruments (and any explicit rates) for conversions and
    ///     for valuing open positions in the margin check; `quote` is added to it.
    /// - Throws: `mismatch` when the quote or ledger is for another instrument or account;
    ///   `missingConversionRate` / `missingQuote` when a figure cannot be computed yet (nothing
    ///   changed; retry on a later tick).
    public func execute(_ order: WorkingOrder, quote: Tick, now: Int64, ledger: AccountLedger,
                        rates: CurrencyRates) throws(ExecutionError) -> ExecutionResult {
        guard quote.instrument == order.order.instrument else {
            throw ExecutionError(.mismatch, "quote for \(quote.instrument) given for order \(order.order.id) in \(order.order.instrument)")
        }
        guard ledger.accountId == order.order.accountId else {
            throw ExecutionError(.mismatch, "ledger of \(ledger.accountId) given for order \(order.order.id) of \(order.order.accountId)")
        }
        var rates = rates
        rates.update(quote)
        var run = ExecutionRun(model: model, working: order, quote: quote, now: now, ledger: ledger, rates: rates)
        return try run.perform()
    }

    /// Cancels a working order (flatten-all, a breaker halt, an operator): cleared and pending
    /// orders and the unfilled rest of a partially filled one move to `cancelled` with `reason`.
    /// A finished order is returned unchanged.
    public func cancel(_ order: WorkingOrder, reason: String, now: Int64, ledger: AccountLedger) -> ExecutionResult {
        var working = order
        let position = ledger.book.position(order.order.instrument)
        guard !working.isDone else {
            return ExecutionResult(order: working, outcome: .cancelled, transitions: [], fills: [], position: position, ledger: ledger,
                                   accountDelta: .none(balance: ledger.balance), margin: nil, decision: nil, nextCheckAt: nil)
        }
        let from = working.order.status
        working.order.status = .cancelled
        working.closeReason = reason
        let decision = Decision(agent: Self.agentName, verdict: ExecutionOutcome.cancelled.verdict,
                                checks: [Decision.Check(rule: "cancel", passed: false, detail: reason)],
                                figures: ["outcome": ExecutionOutcome.cancelled.rawValue,
                                          "filledQuantity": ExecutionFormat.exact(working.filledQuantity),
                                          "remainingQuantity": ExecutionFormat.exact(working.remainingQuantity)],
                                decidedAt: now)
        working.order.decisions.append(decision)
        return ExecutionResult(order: working, outcome: .cancelled, transitions: [.init(from: from, to: .cancelled)], fills: [],
                               position: position, ledger: ledger, accountDelta: .none(balance: ledger.balance), margin: nil,
                               decision: decision, nextCheckAt: nil)
    }

    /// Checks the protective levels of the account's position in `quote`'s instrument against
    /// `quote`: a long's stop triggers on bid ≤ stop and its target on bid ≥ target; a short's on
    /// ask ≥ stop and ask ≤ target (the stop wins if both are reached). A triggered level creates
    /// a closing order for the whole position and executes it against this same tick: a stop as
    /// a market order (slippage applies; after a gap it fills at the gapped price, not at the
    /// stop), a target as a limit at the target (at the target or better). A stop clears both
    /// levels; a target clears the target and leaves the stop armed for any part it cannot fill.
    ///
    /// The closing order's id is `<account>:<instrument>:<kind>@<tick time>`, so reprocessing the
    /// same tick yields the same order and fills. Returns nil when nothing triggers.
    public func checkProtectiveLevels(ledger: AccountLedger, quote: Tick, now: Int64,
                                      rates: CurrencyRates) throws(ExecutionError) -> ProtectiveExecution? {
        let entry = ledger.book.entry(quote.instrument)
        let q = entry.position.quantity
        guard q != 0, quote.bid > 0, quote.ask >= quote.bid else { return nil }
        let long = q > 0
        let closing = long ? quote.bid : quote.ask
        var hit: (ProtectiveKind, Decimal)?
        if let stop = entry.stopLoss, long ? closing <= stop : closing >= stop {
            hit = (.stopLoss, stop)
        } else if let target = entry.takeProfit, long ? closing >= target : closing <= target {
            hit = (.takeProfit, target)
        }
        guard let (kind, level) = hit else { return nil }

        let order = Order(id: "\(ledger.accountId):\(quote.instrument):\(kind.rawValue)@\(quote.time)",
                          signalId: entry.sourceSignalId ?? "", accountId: ledger.accountId, instrument: quote.instrument,
                          side: long ? .sell : .buy, type: kind == .stopLoss ? .market : .limit,
                          quantity: ExecutionMath.abs(q), price: kind == .takeProfit ? level : nil, stopLoss: nil,
                          takeProfit: nil, riskReducing: true, status: .cleared, createdAt: quote.time)
        // Server-side levels: the close is already at the market, so no latency.
        let working = WorkingOrder(order: order, timeInForce: .goodTillCancelled, receivedAt: quote.time, latencyMicros: 0,
                                   protective: kind, protects: entry.openedBy)
        var armed = ledger
        armed.setProtectiveLevels(quote.instrument, stopLoss: kind == .stopLoss ? nil : entry.stopLoss, takeProfit: nil)
        let result = try execute(working, quote: quote, now: now, ledger: armed, rates: rates)
        return ProtectiveExecution(kind: kind, level: level, triggerPrice: closing, result: result)
    }

    /// Market orders that close every open position of `ledger` (e.g. for a flatten-all command):
    /// risk-reducing, good till cancelled, ids `<commandId>:<account>:<instrument>`. Execute
    /// them like any other order.
    public func flattenOrders(ledger: AccountLedger, commandId: String, receivedAt: Int64) -> [WorkingOrder] {
        ledger.book.openPositions.map { entry in
            let p = entry.position
            let order = Order(id: "\(commandId):\(ledger.accountId):\(p.instrument)", signalId: entry.sourceSignalId ?? "",
                              accountId: ledger.accountId, instrument: p.instrument, side: p.quantity > 0 ? .sell : .buy,
                              type: .market, quantity: ExecutionMath.abs(p.quantity), stopLoss: nil, takeProfit: nil,
                              riskReducing: true, status: .cleared, createdAt: receivedAt)
            return WorkingOrder(order: order, timeInForce: .goodTillCancelled, receivedAt: receivedAt,
                                latencyMicros: model.latencyMicros(orderId: order.id))
        }
    }

    /// The ledger marked to `rates`' quotes: equity, margin, daily P&L.
    public func valuation(of ledger: AccountLedger, rates: CurrencyRates) throws(ExecutionError) -> AccountValuation {
        try AccountValuation(ledger: ledger, model: model, rates: rates)
    }

    static func micros(seconds: Double) -> Int64 { Int64((seconds * 1_000_000).rounded()) }
}
