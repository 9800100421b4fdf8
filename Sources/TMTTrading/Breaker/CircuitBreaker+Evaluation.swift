import TMTBase
import TMTModels

extension CircuitBreaker {
    /// The gate: brings the breakers up to now (`advance()`), derives the trading state of the
    /// order's account and instrument, and clears or blocks the order by its `riskReducing`
    /// flag. A blocked order names the first breaker (system, critical agents, account,
    /// instrument) that blocks it, with that breaker's reason and figures.
    public mutating func evaluate(order: Order) -> BreakerEvaluation {
        let events = advance()
        let assessment = assess(account: order.accountId, instrument: order.instrument)
        let verdict: BreakerVerdict
        if let block = assessment.blockingConstraint(riskReducing: order.riskReducing) {
            let rule = block.effect == .halted ? "no orders pass" : "only risk-reducing orders pass"
            verdict = .blocked(breaker: block.key, reason: "\(block.detail); trading \(block.effect.rawValue): \(rule)")
        } else {
            verdict = .cleared
        }
        let decision = decision(for: order, verdict: verdict, assessment: assessment)
        return BreakerEvaluation(orderId: order.id, verdict: verdict, assessment: assessment, decision: decision, events: events)
    }

    private func decision(for order: Order, verdict: BreakerVerdict, assessment: TradingAssessment) -> Decision {
        func check(_ rule: String, _ constraints: [TradingAssessment.Constraint], clear: String) -> Decision.Check {
            let passed = constraints.allSatisfy { $0.effect.allows(riskReducing: order.riskReducing) }
            let detail = constraints.isEmpty ? clear : constraints.map(\.detail).joined(separator: "; ")
            return Decision.Check(rule: rule, passed: passed, severity: "hard", detail: detail)
        }
        let byTier = Dictionary(grouping: assessment.constraints, by: \.key.tier)
        let critical = configuration.criticalAgents.count
        let checks = [
            check("breaker-system", byTier[.system] ?? [], clear: "system normal"),
            check("breaker-agents", byTier[.agent] ?? [], clear: "all \(critical) critical agents up"),
            check("breaker-account", byTier[.account] ?? [], clear: "account \(order.accountId) normal"),
            check("breaker-instrument", byTier[.instrument] ?? [], clear: "instrument \(order.instrument) normal"),
        ]
        var figures = [
            "tradingState": assessment.state.rawValue,
            "riskReducing": order.riskReducing ? "true" : "false",
            "systemState": stateFigure(.system),
            "accountState": stateFigure(.account(order.accountId)),
            "instrumentState": stateFigure(.instrument(order.instrument)),
            "criticalAgentsDown": "\(assessment.criticalAgentsDown.count)",
        ]
        if let key = verdict.blockingBreaker { figures["blockedBy"] = key.description }
        return Decision(agent: Self.agentName, verdict: verdict.isCleared ? .cleared : .blocked, checks: checks, figures: figures,
                        decidedAt: now)
    }

    /// A breaker's state for figures: `normal`, `warning`, `tripped`, `halfOpen`, or `unknown`.
    func stateFigure(_ key: BreakerKey) -> String {
        guard let b = breakers[key], b.isKnown else { return "unknown" }
        return b.state.rawValue
    }
}
