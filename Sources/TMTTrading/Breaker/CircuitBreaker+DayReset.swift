import TMTBase
import TMTModels

extension CircuitBreaker {
    /// A `staging.commands` day reset: for every account in scope the day's drawdown is measured
    /// from its current equity (until its next figures bring a new start-of-day equity), and an
    /// account breaker a drawdown tripped (tripped or half-open, not by an operator) is reset.
    /// With every account in scope the system drawdown is re-based and its breaker reset the same
    /// way. Manual trips and flatten-all stay. Returns the transitions and a one-line account.
    public mutating func startNewDay(_ command: StagingCommand) -> (events: [BreakerEvent], message: String) {
        let now = self.now
        let who = command.requestedBy
        let why = command.reason.isEmpty ? "" : ": \(command.reason)"
        var events: [BreakerEvent] = []
        var rebased: [String] = [], reset: [String] = [], kept: [String] = []
        let known = Set(accountFigures.keys).union(breakers.keys.filter { $0.tier == .account }.map(\.target))
        for id in known.union(command.accounts).sorted() where command.applies(to: id) {
            let key = BreakerKey.account(id)
            events += advanceTimer(key, now: now)
            if let f = accountFigures[id] {
                accountBaselines[id] = DrawdownBaseline(startOfDayEquity: f.startOfDayEquity, acceptedEquity: f.equity, acceptedAt: now)
                rebased.append(id)
            }
            switch resetIfDrawdownTripped(key, cause: .dailyDrawdown, command: command, detail: "new trading day by \(who)\(why)", now: now) {
            case .some(let e): events.append(e); reset.append(id)
            case .none where breakers[key]?.manual == true && breakers[key]?.state == .tripped: kept.append(id)
            case .none: break
            }
            events += observeAccountDrawdown(id, now: now)
        }
        var system = ""
        if command.accounts.isEmpty {
            events += advanceTimer(.system, now: now)
            if !reportingAccounts.isEmpty, reportingAccounts.allSatisfy({ accountFigures[$0] != nil }) {
                let figures = reportingAccounts.map { accountFigures[$0]! }
                systemBaseline = DrawdownBaseline(startOfDayEquity: figures.reduce(Decimal(0)) { $0 + $1.startOfDayEquity },
                                                  acceptedEquity: figures.reduce(Decimal(0)) { $0 + $1.equity }, acceptedAt: now)
                system = "; system drawdown re-based"
            }
            if let e = resetIfDrawdownTripped(.system, cause: .systemDrawdown, command: command,
                                              detail: "new trading day by \(who)\(why)", now: now) {
                events.append(e)
                system += "; system breaker reset"
            }
            events += observeSystemDrawdown(now: now)
        }
        var message = "new trading day: drawdown re-based for \(rebased.count) account\(rebased.count == 1 ? "" : "s")"
        if !reset.isEmpty { message += "; reset " + StagingCommand.list(reset) }
        if !kept.isEmpty { message += "; manual trips kept: " + StagingCommand.list(kept) }
        return (events, message + system)
    }

    /// Resets `key` when a drawdown (`cause`) tripped it and no operator did: tripped for that
    /// cause, or half-open on an account (whose only automatic condition is the daily drawdown).
    private mutating func resetIfDrawdownTripped(_ key: BreakerKey, cause: BreakerCause, command: StagingCommand, detail: String,
                                                 now: Int64) -> BreakerEvent? {
        guard let b = breakers[key], !b.manual else { return nil }
        let drawdownTrip = (b.state == .tripped && b.reason.cause == cause) || (b.state == .halfOpen && key.tier == .account)
        guard drawdownTrip else { return nil }
        let reason = BreakerReason(cause: .dayReset, detail: detail, figures: ["commandId": command.id],
                                   requestedBy: command.requestedBy, commandId: command.id)
        return breakers[key]!.reset(reason, at: now)
    }
}
