import TMTBase
import TMTModels

/// One `ExecutionEngine.execute` call worked through step by step: validity, expiry, which quote,
/// price trigger, depth sweep, margin, booking, status. A value that accumulates the transitions,
/// fills and decision figures, then turns into an `ExecutionResult`.
struct ExecutionRun {
    let model: FillModel
    var working: WorkingOrder
    let quote: Tick
    let now: Int64
    var ledger: AccountLedger
    let rates: CurrencyRates
    let balanceBefore: Decimal

    private var transitions: [ExecutionResult.Transition] = []
    private var fills: [BookedFill] = []
    private var checks: [Decision.Check] = []
    private var figures: [String: String] = [:]
    private var margin: MarginCheck?

    init(model: FillModel, working: WorkingOrder, quote: Tick, now: Int64, ledger: AccountLedger, rates: CurrencyRates) {
        self.model = model
        self.working = working
        self.quote = quote
        self.now = now
        self.ledger = ledger
        self.rates = rates
        balanceBefore = ledger.balance
    }

    private var order: Order { working.order }
    private var config: FillModelConfiguration { model.configuration }

    mutating func perform() throws(ExecutionError) -> ExecutionResult {
        if working.isDone {
            return unchanged(terminalOutcome(order.status), next: nil)
        }
        guard let instrument = model.instrument(order.instrument), config.liquidity[order.instrument] != nil else {
            return try end(.cancelled, rule: "instrument", detail: "unknown instrument \(order.instrument): no contract or liquidity settings")
        }
        guard order.quantity > 0 else {
            return try end(.cancelled, rule: "quantity", detail: "quantity must be > 0 lots, got \(ExecutionFormat.exact(order.quantity))")
        }
        if order.type != .market {
            guard let price = order.price, price > 0 else {
                return try end(.cancelled, rule: "price", detail: "\(order.type.rawValue) order without a positive price")
            }
        }
        if let expiry = working.expiresAt, now >= expiry {
            return try end(.expired, rule: "timeInForce",
                           detail: "\(working.timeInForce.label) order expired at \(expiry) µs with \(ExecutionFormat.exact(working.remainingQuantity)) lots unfilled")
        }
        guard quote.bid > 0, quote.ask >= quote.bid else {
            // A crossed or empty quote says nothing about where the order would fill.
            return unchanged(waitingOutcome, next: working.expiresAt)
        }

        // Which quote: the first at or after arrival; failing that, once the wait bound has
        // passed, the latest one (then it is the quote in force at arrival) unless it is stale.
        let arrival = working.arrivalTime
        let fillTime: Int64
        if quote.time >= arrival {
            fillTime = quote.time
            figures["quoteSource"] = "first quote at or after arrival"
        } else {
            let waitEnd = arrival + ExecutionEngine.micros(seconds: config.quoteWaitMilliseconds / 1000)
            if now < waitEnd {
                return unchanged(waitingOutcome, next: min(waitEnd, working.expiresAt ?? waitEnd))
            }
            if arrival - quote.time > ExecutionEngine.micros(seconds: config.maxQuoteAgeSeconds) {
                return unchanged(waitingOutcome, next: working.expiresAt)
            }
            fillTime = arrival
            figures["quoteSource"] = "latest quote (no newer tick within \(config.quoteWaitMilliseconds) ms of arrival)"
        }
        figures["quoteBid"] = ExecutionFormat.price(quote.bid, precision: instrument.pricePrecision)
        figures["quoteAsk"] = ExecutionFormat.price(quote.ask, precision: instrument.pricePrecision)
        figures["quoteTime"] = "\(quote.time)"
        figures["receivedAt"] = "\(working.receivedAt)"
        figures["arrivalTime"] = "\(arrival)"
        figures["latencyMs"] = ExecutionFormat.milliseconds(micros: working.latencyMicros)
        figures["timeInForce"] = working.timeInForce.label

        // A risk-reducing order (a protective close, a flatten) never opens or flips a position:
        // it fills at most what is still open, and a protective close only the position it was
        // made for. (A flatten sized from positions that a stop had closed meanwhile went short;
        // a take-profit's remainder closed a later position at the old target.) Checked before
        // the price, so such an order on a flat position is cancelled, not left resting.
        let positionBefore = ledger.book.position(order.instrument).quantity
        var passQuantity = working.remainingQuantity
        if working.protective != nil || order.riskReducing {
            let closable = ExecutionMath.sign(positionBefore) == -order.side.sign ? ExecutionMath.abs(positionBefore) : 0
            guard closable > 0 else {
                return try end(.cancelled, rule: "position",
                               detail: "risk-reducing: no \(order.side == .sell ? "long" : "short") position in \(order.instrument) to reduce "
                                   + "(position \(ExecutionFormat.exact(positionBefore)))")
            }
            let openedBy = ledger.book.entry(order.instrument).openedBy
            if let protects = working.protects, let openedBy, openedBy != protects {
                return try end(.cancelled, rule: "position",
                               detail: "the position in \(order.instrument) it protected (opened by \(protects)) was closed; the open one was opened by \(openedBy)")
            }
            passQuantity = min(passQuantity, closable)
        }

        // Price condition of limit and stop orders.
        var limit: Decimal?
        var chargesSlippage = true
        let side = order.side
        let touch = side == .buy ? quote.ask : quote.bid
        let touchName = side == .buy ? "ask" : "bid"
        let px = { (p: Decimal) in ExecutionFormat.price(p, precision: instrument.pricePrecision) }
        switch order.type {
        case .market:
            break
        case .limit:
            let price = order.price ?? 0
            let marketable = side == .buy ? touch <= price : touch >= price
            let cmp = side == .buy ? (marketable ? "≤" : ">") : (marketable ? "≥" : "<")
            let detail = "\(touchName) \(px(touch)) \(cmp) limit \(px(price))"
            if !marketable { return try rest(rule: "limit", detail: detail) }
            checks.append(Decision.Check(rule: "limit", passed: true, detail: detail))
            limit = price
            chargesSlippage = false
        case .stop:
            if working.triggeredAt == nil {
                let price = order.price ?? 0
                let hit = side == .buy ? touch >= price : touch <= price
                let cmp = side == .buy ? (hit ? "≥" : "<") : (hit ? "≤" : ">")
                let detail = "\(touchName) \(px(touch)) \(cmp) stop \(px(price))"
                if !hit { return try rest(rule: "stop", detail: detail) }
                checks.append(Decision.Check(rule: "stop", passed: true, detail: detail + ": triggered, filling at market"))
                working.triggeredAt = fillTime
            }
        }

        let plan = model.sweep(instrument: instrument, side: side, quantity: passQuantity, quote: quote, limit: limit,
                               chargesSlippage: chargesSlippage)

        // Margin, for the exposure the pass adds; passes that only reduce it are never refused.
        let positionAfter = positionBefore + side.sign * plan.filledQuantity
        let added = max(0, ExecutionMath.abs(positionAfter) - ExecutionMath.abs(positionBefore))
        guard let quoteRate = rates.rate(from: instrument.quoteCurrency, to: ledger.currency) else {
            throw ExecutionError(.missingConversionRate, "no rate from \(instrument.quoteCurrency) to \(ledger.currency) for order \(order.id)")
        }
        if added > 0 {
            let valuation = try AccountValuation(ledger: ledger, model: model, rates: rates)
            let check = MarginCheck(addedLots: added, price: plan.touch,
                                    requiredMargin: model.margin(instrument: instrument, lots: added, price: plan.touch, rateToAccount: quoteRate),
                                    equity: valuation.equity, usedMargin: valuation.usedMargin, freeMargin: valuation.freeMargin,
                                    currency: ledger.currency)
            margin = check
            figures["requiredMargin"] = ExecutionFormat.exact(check.requiredMargin)
            figures["freeMargin"] = ExecutionFormat.exact(check.freeMargin)
            figures["equity"] = ExecutionFormat.exact(check.equity)
            figures["usedMargin"] = ExecutionFormat.exact(check.usedMargin)
            let detail = check.detail(pricePrecision: instrument.pricePrecision)
            if !check.passed {
                let outcome: ExecutionOutcome = working.filledQuantity == 0 ? .rejectedForMargin : .cancelled
                return try end(outcome, rule: "margin", detail: detail)
            }
            checks.append(Decision.Check(rule: "margin", passed: true, detail: detail))
        } else {
            checks.append(Decision.Check(rule: "margin", passed: true, detail: "risk-reducing: adds no exposure, no margin required"))
        }

        // Book the legs.
        let commissionCurrency = config.commission(for: instrument)?.currency ?? ledger.currency
        guard let commissionRate = rates.rate(from: commissionCurrency, to: ledger.currency) else {
            throw ExecutionError(.missingConversionRate, "no rate from \(commissionCurrency) to \(ledger.currency) for commission")
        }
        var passCommission: Decimal = 0
        var passRealized: Decimal = 0
        for leg in plan.legs {
            working.fillCount += 1
            let fill = Fill(id: WorkingOrder.fillId(orderId: order.id, sequence: working.fillCount), orderId: order.id,
                            accountId: order.accountId, instrument: order.instrument, side: side, quantity: leg.quantity,
                            price: leg.price, spread: quote.spread, slippage: leg.slippage,
                            commission: model.commission(instrument: instrument, lots: leg.quantity, rateToAccount: commissionRate),
                            time: fillTime)
            let opening = working.protective == nil
            let change = ledger.book(fill, contractSize: instrument.contractSize, conversionRate: quoteRate,
                                     moneyScale: config.moneyScale, averagePriceScale: config.averagePriceScale,
                                     stopLoss: opening ? order.stopLoss : nil, takeProfit: opening ? order.takeProfit : nil,
                                     sourceOrderId: opening ? order.id : nil, sourceSignalId: opening ? order.signalId : nil)
            working.filledQuantity += leg.quantity
            working.filledNotional += leg.price * leg.quantity
            passCommission += fill.commission
            passRealized += change.realizedPnL
            fills.append(BookedFill(fill: fill, level: leg.level, realizedPnL: change.realizedPnL, conversionRate: quoteRate,
                                    positionAfter: change.after, balanceAfter: ledger.balance))
        }
        figures["filledThisPass"] = ExecutionFormat.exact(plan.filledQuantity)
        figures["filledQuantity"] = ExecutionFormat.exact(working.filledQuantity)
        figures["remainingQuantity"] = ExecutionFormat.exact(working.remainingQuantity)
        if let avg = plan.averagePrice { figures["passAveragePrice"] = ExecutionFormat.exact(avg) }
        figures["touch"] = px(plan.touch)
        figures["spread"] = ExecutionFormat.exact(plan.spread)
        figures["depthPerLevel"] = ExecutionFormat.exact(plan.depthPerLevel)
        figures["levelsUsed"] = "\(plan.legs.count)"
        figures["slippagePoints"] = "\(plan.slippage.points)"
        figures["slippagePipsRaw"] = String(cFormat: "%.4f", plan.slippage.rawPips)
        figures["slippageCapped"] = "\(plan.slippage.capped)"
        figures["commission"] = ExecutionFormat.exact(passCommission)
        figures["realizedPnL"] = ExecutionFormat.exact(passRealized)
        figures["conversionRate"] = ExecutionFormat.exact(quoteRate)
        figures["balanceAfter"] = ExecutionFormat.exact(ledger.balance)
        figures["positionAfter"] = ExecutionFormat.exact(ledger.book.position(order.instrument).quantity)
        checks.append(Decision.Check(rule: "depth", passed: plan.unfilled == 0,
                                     severity: "soft",
                                     detail: "filled \(ExecutionFormat.exact(plan.filledQuantity)) of \(ExecutionFormat.exact(passQuantity)) lots over \(plan.legs.count) level(s) of \(ExecutionFormat.exact(plan.depthPerLevel)) lots"))

        if working.remainingQuantity == 0 {
            try move(to: .filled)
            return finish(.filled, next: nil)
        }
        try move(to: .partiallyFilled)
        if working.timeInForce == .immediateOrCancel {
            let detail = "immediate-or-cancel: \(ExecutionFormat.exact(working.remainingQuantity)) lots unfilled, cancelled"
            checks.append(Decision.Check(rule: "timeInForce", passed: false, detail: detail))
            working.closeReason = detail
            try move(to: .cancelled)
            return finish(.cancelled, next: nil)
        }
        if working.protective != nil || order.riskReducing, ledger.book.position(order.instrument).quantity == 0 {
            let detail = "position in \(order.instrument) closed; \(ExecutionFormat.exact(working.remainingQuantity)) lots no longer needed"
            checks.append(Decision.Check(rule: "position", passed: false, detail: detail))
            working.closeReason = detail
            try move(to: .cancelled)
            return finish(.cancelled, next: nil)
        }
        return finish(.partiallyFilled, next: working.expiresAt)
    }

    // MARK: Endings

    /// The outcome while nothing can happen yet: resting orders stay pending/partially filled.
    private var waitingOutcome: ExecutionOutcome {
        switch order.status {
        case .pending: .pending
        case .partiallyFilled: .partiallyFilled
        default: .awaitingQuote
        }
    }

    private func terminalOutcome(_ status: OrderStatus) -> ExecutionOutcome {
        switch status {
        case .filled: .filled
        case .expired: .expired
        default: .cancelled
        }
    }

    /// A limit or stop order whose price is not reached.
    private mutating func rest(rule: String, detail: String) throws(ExecutionError) -> ExecutionResult {
        if working.timeInForce == .immediateOrCancel {
            return try end(.cancelled, rule: rule, detail: "immediate-or-cancel not marketable at arrival: \(detail)")
        }
        guard order.status == .cleared else { return unchanged(waitingOutcome, next: working.expiresAt) }
        checks.append(Decision.Check(rule: rule, passed: false, severity: "soft", detail: detail + ": resting"))
        try move(to: .pending)
        return finish(.pending, next: working.expiresAt)
    }

    /// Ends the order without (further) fills: rejected for margin, expired or cancelled.
    private mutating func end(_ outcome: ExecutionOutcome, rule: String, detail: String) throws(ExecutionError) -> ExecutionResult {
        checks.append(Decision.Check(rule: rule, passed: false, detail: detail))
        working.closeReason = detail
        let to: OrderStatus = outcome == .expired && order.status == .pending ? .expired : .cancelled
        try move(to: to)
        return finish(outcome, next: nil)
    }

    private mutating func move(to next: OrderStatus) throws(ExecutionError) {
        let from = working.order.status
        guard from.canMove(to: next) else {
            throw ExecutionError(.lifecycle, "order \(order.id): cannot move from \(from.rawValue) to \(next.rawValue)")
        }
        working.order.status = next
        transitions.append(.init(from: from, to: next))
    }

    private mutating func finish(_ outcome: ExecutionOutcome, next: Int64?) -> ExecutionResult {
        figures["outcome"] = outcome.rawValue
        figures["orderType"] = order.type.rawValue
        if let kind = working.protective { figures["protective"] = kind.rawValue }
        let decision = Decision(agent: ExecutionEngine.agentName, verdict: outcome.verdict, checks: checks, figures: figures,
                                decidedAt: now)
        working.order.decisions.append(decision)
        let commission = fills.reduce(Decimal(0)) { $0 + $1.fill.commission }
        let realized = fills.reduce(Decimal(0)) { $0 + $1.realizedPnL }
        return ExecutionResult(order: working, outcome: outcome, transitions: transitions, fills: fills,
                               position: ledger.book.position(order.instrument), ledger: ledger,
                               accountDelta: .init(realizedPnL: realized, commission: commission, balanceBefore: balanceBefore,
                                                   balanceAfter: ledger.balance),
                               margin: margin, decision: decision, nextCheckAt: next)
    }

    private func unchanged(_ outcome: ExecutionOutcome, next: Int64?) -> ExecutionResult {
        ExecutionResult(order: working, outcome: outcome, transitions: [], fills: [], position: ledger.book.position(order.instrument),
                        ledger: ledger, accountDelta: .none(balance: ledger.balance), margin: nil, decision: nil, nextCheckAt: next)
    }
}
