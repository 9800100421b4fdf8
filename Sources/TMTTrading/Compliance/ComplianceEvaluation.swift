import TMTBase
import TMTModels

/// One order's evaluation: the figures every rule shares, computed once, then one check per rule.
struct ComplianceEvaluation {
    /// What the order does to the account's exposure in its instrument.
    enum Exposure {
        /// Opposite an open position and no larger: closes or reduces it, adds no risk.
        case reduces
        /// Opens a position, adds to one, or (larger than the opposite position) flips it;
        /// `newLots` is the exposure it creates.
        case adds(newLots: Decimal)
    }

    /// The order's worst case to its stop, in account currency.
    enum Risk {
        /// A risk-reducing order adds none.
        case none
        case amount(Decimal)
        /// No stop-loss: the loss is not bounded, so it cannot be projected.
        case unbounded
        /// The risk could not be computed (missing or inconsistent pricing); order-valid fails.
        case unpriced(String)

        var value: Decimal {
            if case .amount(let v) = self { return v }
            return 0
        }
    }

    let order: Order
    let context: ComplianceContext
    let rules: FirmRules
    let mode: ComplianceMode
    let now: Date
    let nowMicros: Int64
    let account: Account
    let currency: String
    /// The open position in the order's instrument, if any.
    let position: ComplianceContext.OpenPosition?
    let openPositions: [ComplianceContext.OpenPosition]
    let exposure: Exposure
    let instrument: Instrument?
    let entry: Decimal?
    let risk: Risk
    let invalid: [String]

    let today: FirmTradingDay
    let dayStart: ComplianceDayStart
    let dayRolled: Bool
    let levels: FirmLossLevels
    var dayStartLevel: Decimal { levels.dayStartLevel }
    var dailyLimit: Decimal { levels.dailyLimit }
    var dailyLoss: Decimal { levels.dailyLoss }
    var highWaterMark: Decimal { levels.highWaterMark }
    var maxReference: Decimal { levels.maxReference }
    var maxFloor: Decimal { levels.maxFloor }
    var maxLimit: Decimal { levels.maxLimit }
    var drawdown: Decimal { levels.drawdown }

    init(order: Order, context: ComplianceContext, rules: FirmRules, mode: ComplianceMode, now: Date) {
        self.order = order
        self.context = context
        self.rules = rules
        self.mode = mode
        self.now = now
        nowMicros = Int64((now.timeIntervalSince1970 * 1_000_000).rounded())
        account = context.account
        currency = context.account.currency
        openPositions = context.positions.filter { $0.position.quantity != 0 }
        position = openPositions.first { $0.position.instrument == order.instrument }

        let held = position?.position.quantity ?? 0
        let heldSize = held < 0 ? -held : held
        if held != 0, (held > 0) != (order.side == .buy) {
            exposure = order.quantity <= heldSize ? .reduces : .adds(newLots: order.quantity - heldSize)
        } else {
            exposure = .adds(newLots: order.quantity)
        }

        var problems: [String] = []
        if order.quantity <= 0 { problems.append("quantity \(order.quantity) is not positive") }
        if order.accountId != account.id {
            problems.append("order is for account \(order.accountId) but the context holds account \(account.id)")
        }
        if order.type != .market && order.price == nil { problems.append("\(order.type.rawValue) order without a price") }
        if let p = context.pricing, p.instrument.symbol != order.instrument {
            problems.append("pricing is for \(p.instrument.symbol), the order for \(order.instrument)")
        }
        let pricing = context.pricing.flatMap { $0.instrument.symbol == order.instrument ? $0 : nil }
        instrument = pricing?.instrument ?? Instrument.catalog[order.instrument]
        entry = order.price ?? pricing?.marketPrice

        if let stop = order.stopLoss, let entry {
            let wrongSide = order.side == .buy ? stop >= entry : stop <= entry
            if wrongSide {
                problems.append("stop-loss \(stop) is not on the losing side of entry \(entry) for a \(order.side.rawValue)")
            }
        }

        switch exposure {
        case .reduces:
            risk = .none
        case .adds(let lots):
            if let stop = order.stopLoss {
                if let pricing, let entry {
                    let distance = entry > stop ? entry - stop : stop - entry
                    risk = .amount(lots * pricing.instrument.contractSize * distance * pricing.quoteToAccountRate)
                } else {
                    let why = "no pricing (entry and quote→\(account.currency) rate) for \(order.instrument) in the context"
                    problems.append("cannot price the order's risk: " + why)
                    risk = .unpriced(why)
                }
            } else {
                risk = .unbounded
            }
        }
        invalid = problems

        today = rules.tradingDay(containing: now)
        dayRolled = context.dayStart.isStale(at: now)
        dayStart = context.dayStart.current(at: now, rules: rules, account: account)
        levels = FirmLossLevels(rules: rules, account: account, dayStart: dayStart)
    }

    var reduces: Bool {
        if case .reduces = exposure { return true }
        return false
    }

    /// The loss the limits are tested against: current loss, plus the order's risk when it adds.
    var projectedDaily: Decimal { dailyLoss + risk.value }
    var projectedDrawdown: Decimal { drawdown + risk.value }

    func decide() -> ComplianceDecision {
        let checks = [firmCheck(), orderValidCheck(), dailyLossCheck(), dailyWarningCheck(), maxLossCheck(), maxWarningCheck(),
                      maxLotsCheck(), maxPositionsCheck(), stopLossCheck(), newsCheck(), cutoffCheck(), minimumHoldCheck(),
                      consistencyCheck(), tradingDaysCheck()]
        return ComplianceDecision(verdict: ComplianceDecision.verdict(for: checks), checks: checks, figures: figures(), decidedAt: now)
    }

    // MARK: - Helpers

    private func check(_ rule: ComplianceRule, _ passed: Bool, _ detail: String) -> ComplianceCheck {
        ComplianceCheck(rule: rule, passed: passed, severity: rule.severity(in: mode), detail: detail)
    }

    private func money(_ v: Decimal) -> String { ComplianceFormat.money(v) }

    private var orderText: String {
        "\(order.side.rawValue) \(ComplianceFormat.fixed(order.quantity, places: 2, grouped: true)) \(order.instrument)"
    }

    private var riskText: String {
        switch risk {
        case .none: "0.00"
        case .amount(let v): money(v)
        case .unbounded: "unbounded (no stop-loss; not projected)"
        case .unpriced: "not priced"
        }
    }

    /// Current usage of a limit, for the minimum-hold waiver: a close is never held back once
    /// either loss limit is at its warning level.
    private var lossAtWarningLevel: String? {
        if dailyLoss * 100 >= rules.dailyLossWarningPercent * dailyLimit {
            return "daily loss at \(ComplianceFormat.percent(dailyLoss, of: dailyLimit)) of its limit"
        }
        if drawdown * 100 >= rules.maxLossWarningPercent * maxLimit {
            return "drawdown at \(ComplianceFormat.percent(drawdown, of: maxLimit)) of its limit"
        }
        return nil
    }

    private static let weekdayNames = ["", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    // MARK: - Rules

    private func firmCheck() -> ComplianceCheck {
        check(.firm, true, "firm \(rules.id) (\(rules.name)), \(mode.rawValue) mode")
    }

    private func orderValidCheck() -> ComplianceCheck {
        guard invalid.isEmpty else { return check(.orderValid, false, invalid.joined(separator: "; ")) }
        var detail = "\(orderText) \(order.type.rawValue)"
        if let entry { detail += " at \(entry)" }
        if let p = position?.position {
            let side = p.quantity > 0 ? "long" : "short"
            let size = ComplianceFormat.fixed(p.quantity < 0 ? -p.quantity : p.quantity, places: 2, grouped: true)
            switch exposure {
            case .reduces: detail += ": reduces the \(side) \(size) position (risk-reducing)"
            case .adds(let lots) where (p.quantity > 0) != (order.side == .buy):
                detail += ": flips the \(side) \(size) position, new exposure \(ComplianceFormat.fixed(lots, places: 2, grouped: true)) lots"
            case .adds: detail += ": adds to the \(side) \(size) position"
            }
        } else {
            detail += ": opens a new position"
        }
        if order.riskReducing && !reduces { detail += "; marked risk-reducing but it adds exposure, so it is judged as new risk" }
        return check(.orderValid, true, detail)
    }

    private func dailyLossCheck() -> ComplianceCheck {
        let reference = "\(rules.dayStartReference.rawValue.replacing("_", with: " ")) \(money(dayStartLevel))"
        let day = "day \(today.label) (\(ComplianceFormat.zone(rules.timeZone)) \(rules.dayReset)) from start-of-day \(reference)"
            + (dayRolled ? "; baseline rolled over at the firm's day reset" : "")
        if reduces {
            return check(.dailyLoss, true, "risk-reducing order, never blocked by the loss limit: daily loss \(money(dailyLoss)) \(currency) "
                         + "of limit \(money(dailyLimit)) (\(ComplianceFormat.percent(dailyLoss, of: dailyLimit))); \(day)")
        }
        let projected = projectedDaily
        let passed = projected <= dailyLimit
        return check(.dailyLoss, passed, "daily loss \(money(dailyLoss)) + order risk \(riskText) = \(money(projected)) \(currency) "
                     + "of limit \(money(dailyLimit)) (\(ComplianceFormat.percent(projected, of: dailyLimit))); \(day)")
    }

    private func dailyWarningCheck() -> ComplianceCheck {
        let value = reduces ? dailyLoss : projectedDaily
        let reached = value * 100 >= rules.dailyLossWarningPercent * dailyLimit
        return check(.dailyLossWarning, !reached, "\(reduces ? "" : "projected ")daily loss \(money(value)) \(currency) is "
                     + "\(ComplianceFormat.percent(value, of: dailyLimit)) of limit \(money(dailyLimit)) "
                     + "(warning from \(ComplianceFormat.percentFigure(rules.dailyLossWarningPercent)))")
    }

    private var floorText: String {
        switch rules.maxLossMode {
        case .static:
            return "floor \(money(maxFloor)) (static, \(ComplianceFormat.percentFigure(rules.maxLossPercent)) of initial \(money(account.initialBalance)))"
        case .trailing:
            let capped = rules.trailingStopsAtInitialBalance && maxFloor == account.initialBalance ? ", stopped at the initial balance" : ""
            return "floor \(money(maxFloor)) (trailing \(ComplianceFormat.percentFigure(rules.maxLossPercent)) of initial "
                + "\(money(account.initialBalance)) below high-water mark \(money(highWaterMark))\(capped))"
        }
    }

    private func maxLossCheck() -> ComplianceCheck {
        if reduces {
            return check(.maxLoss, true, "risk-reducing order, never blocked by the loss limit: drawdown \(money(drawdown)) \(currency) "
                         + "of limit \(money(maxLimit)) (\(ComplianceFormat.percent(drawdown, of: maxLimit))); equity "
                         + "\(money(account.equity)), \(floorText)")
        }
        let projected = projectedDrawdown
        return check(.maxLoss, projected <= maxLimit, "drawdown \(money(drawdown)) + order risk \(riskText) = \(money(projected)) "
                     + "\(currency) of limit \(money(maxLimit)) (\(ComplianceFormat.percent(projected, of: maxLimit))); equity "
                     + "\(money(account.equity)), \(floorText)")
    }

    private func maxWarningCheck() -> ComplianceCheck {
        let value = reduces ? drawdown : projectedDrawdown
        let reached = value * 100 >= rules.maxLossWarningPercent * maxLimit
        return check(.maxLossWarning, !reached, "\(reduces ? "" : "projected ")drawdown \(money(value)) \(currency) is "
                     + "\(ComplianceFormat.percent(value, of: maxLimit)) of limit \(money(maxLimit)) "
                     + "(warning from \(ComplianceFormat.percentFigure(rules.maxLossWarningPercent)))")
    }

    private func maxLotsCheck() -> ComplianceCheck {
        let lots = ComplianceFormat.fixed(order.quantity, places: 2, grouped: true)
        let cap = ComplianceFormat.fixed(rules.maxLotsPerOrder, places: 2, grouped: true)
        if reduces { return check(.maxLots, true, "risk-reducing order of \(lots) lots: the cap of \(cap) applies to new exposure") }
        return check(.maxLots, order.quantity <= rules.maxLotsPerOrder, "\(lots) lots of max \(cap) per order")
    }

    private func maxPositionsCheck() -> ComplianceCheck {
        let count = openPositions.count
        let names = openPositions.map(\.position.instrument).sorted().joined(separator: ", ")
        let open = count == 0 ? "none open" : "open: \(names)"
        guard position == nil else {
            return check(.maxOpenPositions, true, "\(order.instrument) position already open; \(count) of max \(rules.maxOpenPositions) open")
        }
        return check(.maxOpenPositions, count + 1 <= rules.maxOpenPositions,
                     "opens position \(count + 1) of max \(rules.maxOpenPositions) (\(open))")
    }

    private func stopLossCheck() -> ComplianceCheck {
        guard rules.stopLossRequired else { return check(.stopLossRequired, true, "\(rules.id) does not require a stop-loss") }
        if reduces { return check(.stopLossRequired, true, "risk-reducing order needs no stop-loss") }
        guard let stop = order.stopLoss else {
            return check(.stopLossRequired, false, "\(orderText) has no stop-loss; \(rules.id) requires one on every order that adds risk")
        }
        return check(.stopLossRequired, true, "stop-loss at \(stop)")
    }

    /// Currencies an order is exposed to: base and quote of a currency pair; the quote currency
    /// for metals and indices (their base is not a currency with releases of its own).
    private var currencies: [String] {
        if let instrument { return [instrument.base, instrument.quoteCurrency] }
        return order.instrument.split(separator: "_").map(String.init)
    }

    private func newsCheck() -> ComplianceCheck {
        guard let blackout = rules.newsBlackout else { return check(.newsBlackout, true, "\(rules.id) has no news blackout") }
        let impacts = blackout.impacts.sorted().joined(separator: "/")
        let window = "±\(blackout.minutes) min"
        if reduces { return check(.newsBlackout, true, "risk-reducing order, never blocked by the news blackout (\(window))") }
        let currencies = self.currencies
        let half = Int64(blackout.minutes) * 60_000_000
        let relevant = context.news.events.filter { blackout.impacts.contains($0.impact) && currencies.contains($0.currency) }
        let inside = relevant.filter { abs($0.time - nowMicros) <= half }
        func describe(_ e: NewsEvent) -> String {
            let when = Date(timeIntervalSince1970: Double(e.time) / 1_000_000)
            let offset = Double(e.time - nowMicros) / 1_000_000
            let rel = offset >= 0 ? "in \(ComplianceFormat.duration(offset))" : "\(ComplianceFormat.duration(-offset)) ago"
            return "\(e.title) (\(e.currency), \(e.impact)) at \(ComplianceFormat.utc(when)), \(rel)"
        }
        if let nearest = inside.min(by: { abs($0.time - nowMicros) < abs($1.time - nowMicros) }) {
            return check(.newsBlackout, false, "\(describe(nearest)): inside the \(window) blackout for \(currencies.joined(separator: "/"))")
        }
        var detail = "no \(impacts)-impact release for \(currencies.joined(separator: "/")) within \(window)"
        if let next = relevant.first(where: { $0.time > nowMicros }) { detail += "; next: \(describe(next))" }
        return check(.newsBlackout, true, detail)
    }

    private func cutoffCheck() -> ComplianceCheck {
        guard let cutoff = rules.weekendCutoff else { return check(.fridayCutoff, true, "\(rules.id) has no weekend cut-off") }
        let rule = "\(Self.weekdayNames[cutoff.weekday]) \(cutoff.time) to \(Self.weekdayNames[cutoff.resumeWeekday]) "
            + "\(cutoff.resumeTime) \(ComplianceFormat.zone(cutoff.timeZone))"
        if reduces { return check(.fridayCutoff, true, "risk-reducing order, never blocked by the weekend cut-off (\(rule))") }
        if let window = cutoff.window(containing: now) {
            return check(.fridayCutoff, false, "no new risk from \(ComplianceFormat.utc(window.cutoff)) until "
                         + "\(ComplianceFormat.utc(window.resume)) (\(rule)); now \(ComplianceFormat.utc(now))")
        }
        return check(.fridayCutoff, true, "outside the weekend cut-off (\(rule)); now \(ComplianceFormat.utc(now))")
    }

    private func minimumHoldCheck() -> ComplianceCheck {
        let minimum = rules.minimumHoldSeconds
        guard minimum > 0 else { return check(.minimumHold, true, "\(rules.id) has no minimum hold time") }
        guard let open = position, (open.position.quantity > 0) != (order.side == .buy) else {
            return check(.minimumHold, true, "applies to closing orders only; this order closes nothing")
        }
        let held = now.timeIntervalSince(open.openedAt)
        let text = "\(order.instrument) position opened \(ComplianceFormat.utc(open.openedAt)), held \(ComplianceFormat.duration(held)) "
            + "of minimum \(ComplianceFormat.duration(Double(minimum)))"
        if held >= Double(minimum) { return check(.minimumHold, true, text) }
        if let waiver = lossAtWarningLevel {
            return check(.minimumHold, true, text + "; waived: \(waiver), a close must not be held back")
        }
        return check(.minimumHold, false, text)
    }

    private func consistencyCheck() -> ComplianceCheck {
        guard let maxPercent = rules.bestDayMaxPercent else { return check(.consistency, true, "\(rules.id) has no consistency rule") }
        let limit = ComplianceFormat.percentFigure(maxPercent)
        if reduces { return check(.consistency, true, "risk-reducing order, never blocked by the consistency rule (best day ≤ \(limit))") }
        let todayPnL = context.realizedToday ?? account.balance - dayStart.balance
        let past = context.history.filter { $0.day != today.label }
        let total = past.reduce(Decimal(0)) { $0 + $1.realizedPnL } + todayPnL
        guard total > 0 else {
            return check(.consistency, true, "no realised profit in total yet (\(money(total)) \(currency)); best day ≤ \(limit) of total profit")
        }
        // Only today's share can be made worse by trading now; a past best day is fixed and is
        // diluted, not worsened, by further profit, so it is reported but does not block.
        if todayPnL > 0 && todayPnL * 100 > maxPercent * total {
            return check(.consistency, false, "today's realised profit \(money(todayPnL)) is \(ComplianceFormat.percent(todayPnL, of: total)) "
                         + "of total profit \(money(total)) \(currency) (max \(limit) on one day): no new risk today")
        }
        var best = (day: today.label, pnl: todayPnL)
        for d in past where d.realizedPnL > best.pnl { best = (d.day, d.realizedPnL) }
        var detail = "best day \(best.day) \(money(best.pnl)) is \(ComplianceFormat.percent(best.pnl, of: total)) of total profit "
            + "\(money(total)) \(currency) (max \(limit))"
        if best.pnl * 100 > maxPercent * total { detail += "; more profitable days are needed before a payout" }
        return check(.consistency, true, detail)
    }

    private func tradingDaysCheck() -> ComplianceCheck {
        let past = Set(context.history.filter { $0.day != today.label && $0.trades > 0 }.map(\.day))
        let count = past.count + (context.tradesToday > 0 ? 1 : 0)
        let required = rules.minimumTradingDays
        let status = count >= required ? "minimum met" : "\(required - count) more needed for a payout"
        return check(.tradingDays, true, "\(count) trading day\(count == 1 ? "" : "s") of minimum \(required) (\(status))")
    }

    // MARK: - Figures

    private func figures() -> [String: String] {
        func cents(_ v: Decimal) -> String { ComplianceFormat.exact(ComplianceFormat.round(v, 2)) }
        var f: [String: String] = [
            "firm": rules.id,
            "mode": mode.rawValue,
            "tradingDay": today.label,
            "dayRolled": dayRolled ? "true" : "false",
            "riskReducing": reduces ? "true" : "false",
            "dayStartLevel": cents(dayStartLevel),
            "dailyLoss": cents(dailyLoss),
            "dailyLimit": cents(dailyLimit),
            "projectedDailyLoss": cents(projectedDaily),
            "drawdown": cents(drawdown),
            "maxLossLimit": cents(maxLimit),
            "maxLossFloor": cents(maxFloor),
            "projectedDrawdown": cents(projectedDrawdown),
            "highWaterMark": cents(highWaterMark),
            "equity": cents(account.equity),
            "currency": currency,
        ]
        switch risk {
        case .none: f["orderRisk"] = "0"
        case .amount(let v): f["orderRisk"] = cents(v)
        case .unbounded: f["orderRisk"] = "unbounded"
        case .unpriced: f["orderRisk"] = "unpriced"
        }
        return f
    }
}
