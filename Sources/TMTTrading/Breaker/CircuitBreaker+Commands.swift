import TMTBase
import TMTModels

extension CircuitBreaker {
    /// Applies an operator command from `breaker.commands`, idempotently by command id.
    /// `positions` are the open positions the agent holds (used by flatten only; flat entries
    /// are ignored, entries of one account and instrument are netted). With `remember` false the
    /// id is not taken as applied until `rememberApplied`: the agent first delivers a flatten's
    /// closing orders, and a retry after a failed delivery must make them again (same ids), not
    /// find a duplicate with nothing to send.
    public mutating func handle(_ command: BreakerCommand, positions: [Position] = [], remember: Bool = true) -> BreakerCommandResult {
        if appliedCommandSet.contains(command.id) {
            return BreakerCommandResult(commandId: command.id, outcome: .duplicate,
                                        message: "command \(command.id) was already applied; nothing done")
        }
        if let problem = validate(command) {
            return BreakerCommandResult(commandId: command.id, outcome: .rejected, message: "command \(command.id) rejected: \(problem)")
        }
        let key = command.key!
        let now = self.now
        var events = advanceTimer(key, now: now)
        if breakers[key] == nil { breakers[key] = Breaker(key: key, at: now) }
        let who = command.requestedBy
        let why = command.reason.isEmpty ? "" : ": \(command.reason)"
        let message: String
        var orders: [Order] = []

        switch command.action {
        case .trip:
            let reason = BreakerReason(cause: .manualTrip, detail: "manual trip by \(who)\(why)", figures: ["commandId": command.id],
                                       requestedBy: who, commandId: command.id)
            if let e = breakers[key]!.tripManually(reason, at: now) { events.append(e) }
            message = "\(key) tripped by \(who)"
        case .reset:
            let reason = BreakerReason(cause: .manualReset, detail: "reset by \(who)\(why)", figures: ["commandId": command.id],
                                       requestedBy: who, commandId: command.id)
            events.append(breakers[key]!.reset(reason, at: now))
            var accepted = ""
            switch key.tier {
            case .account:
                if let f = accountFigures[key.target] {
                    accountBaselines[key.target] = DrawdownBaseline(startOfDayEquity: f.startOfDayEquity, acceptedEquity: f.equity, acceptedAt: now)
                    accepted = "; today's loss up to equity \(BreakerFormat.money(f.equity)) accepted"
                    events += observeAccountDrawdown(key.target, now: now)
                }
            case .system:
                if !reportingAccounts.isEmpty, reportingAccounts.allSatisfy({ accountFigures[$0] != nil }) {
                    let figures = reportingAccounts.map { accountFigures[$0]! }
                    let start = figures.reduce(Decimal(0)) { $0 + $1.startOfDayEquity }
                    let equity = figures.reduce(Decimal(0)) { $0 + $1.equity }
                    systemBaseline = DrawdownBaseline(startOfDayEquity: start, acceptedEquity: equity, acceptedAt: now)
                    accepted = "; today's loss up to total equity \(BreakerFormat.money(equity)) accepted"
                    events += observeSystemDrawdown(now: now)
                }
            case .agent, .instrument:
                break
            }
            message = "\(key) reset by \(who)\(accepted)"
        case .flatten:
            let scope = key.tier == .system ? "all accounts" : "account \(key.target)"
            let reason = BreakerReason(cause: .flattenAll, detail: "flatten all (\(scope)) by \(who)\(why)",
                                       figures: ["commandId": command.id], requestedBy: who, commandId: command.id)
            if let e = breakers[key]!.tripManually(reason, at: now) { events.append(e) }
            orders = flattenOrders(command, scope: scope, positions: positions, now: now)
            message = "flatten all (\(scope)) by \(who): \(orders.count) closing order\(orders.count == 1 ? "" : "s"); \(key) tripped"
        }
        if remember { self.remember(command.id) }
        return BreakerCommandResult(commandId: command.id, outcome: .applied, message: message, events: events, orders: orders)
    }

    private func validate(_ command: BreakerCommand) -> String? {
        if command.id.trimmingWhitespace().isEmpty { return "missing command id" }
        if command.requestedBy.trimmingWhitespace().isEmpty { return "missing operator" }
        if command.key == nil { return "missing target for tier \(command.tier.rawValue)" }
        if command.action != .reset, command.reason.trimmingWhitespace().isEmpty {
            return "missing reason for \(command.action.rawValue)"
        }
        if command.action == .flatten, command.tier != .account, command.tier != .system {
            return "flatten applies to an account or the system, not to tier \(command.tier.rawValue)"
        }
        return nil
    }

    /// One market order per open (account, instrument), opposite side, full quantity,
    /// risk-reducing, already cleared, id `flatten-<commandId>-<account>-<instrument>`.
    private func flattenOrders(_ command: BreakerCommand, scope: String, positions: [Position], now: Int64) -> [Order] {
        var net: [String: [String: Decimal]] = [:]
        for p in positions where command.tier == .system || p.accountId == command.target {
            net[p.accountId, default: [:]][p.instrument, default: 0] += p.quantity
        }
        var orders: [Order] = []
        for account in net.keys.sorted() {
            for instrument in net[account]!.keys.sorted() {
                let quantity = net[account]![instrument]!
                guard quantity != 0 else { continue }
                let side: Side = quantity > 0 ? .sell : .buy
                let lots = quantity > 0 ? quantity : -quantity
                let what = "closing \(quantity > 0 ? "long" : "short") \(lots) lots \(instrument)"
                let check = Decision.Check(rule: "flatten-all", passed: true, severity: "hard",
                                           detail: "flatten all (\(scope)) by \(command.requestedBy): \(command.reason) — \(what)")
                let decision = Decision(agent: Self.agentName, verdict: .cleared, checks: [check],
                                        figures: ["commandId": command.id, "operator": command.requestedBy,
                                                  "positionQuantity": BreakerFormat.exact(quantity)],
                                        decidedAt: now)
                orders.append(Order(id: "flatten-\(command.id)-\(account)-\(instrument)", signalId: "flatten-\(command.id)",
                                    accountId: account, instrument: instrument, side: side, type: .market, quantity: lots,
                                    stopLoss: nil, takeProfit: nil, riskReducing: true, status: .cleared,
                                    decisions: [decision], createdAt: now))
            }
        }
        return orders
    }

    /// Takes `ids` (oldest first) as applied commands: those applied with `remember: false` once
    /// their effects are delivered, or known applied elsewhere (the database).
    public mutating func rememberApplied(_ ids: [String]) {
        for id in ids where !appliedCommandSet.contains(id) { remember(id) }
    }

    private mutating func remember(_ id: String) {
        appliedCommands.append(id)
        appliedCommandSet.insert(id)
        if appliedCommands.count > Self.commandMemory {
            let drop = appliedCommands.count - Self.commandMemory
            for old in appliedCommands.prefix(drop) { appliedCommandSet.remove(old) }
            appliedCommands.removeFirst(drop)
        }
    }
}
