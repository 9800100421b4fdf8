import TMTModels

/// The result of `CircuitBreaker.evaluate(order:)`.
public struct BreakerEvaluation: Sendable, Equatable {
    /// The order judged.
    public var orderId: String
    /// Cleared or blocked with the breaker and reason.
    public var verdict: BreakerVerdict
    /// The account's (and instrument's) trading state with every restricting breaker.
    public var assessment: TradingAssessment
    /// The decision the order carries: agent `circuit-breaker`, verdict `.cleared`/`.blocked`,
    /// one check per tier (`breaker-system`, `breaker-agents`, `breaker-account`,
    /// `breaker-instrument`) and figures (`tradingState`, `riskReducing`, each tier's state,
    /// `criticalAgentsDown`).
    public var decision: Decision
    /// Transitions that bringing the breakers up to date emitted (publish them on
    /// `breaker.events` like any other).
    public var events: [BreakerEvent]

    public init(orderId: String, verdict: BreakerVerdict, assessment: TradingAssessment, decision: Decision, events: [BreakerEvent]) {
        self.orderId = orderId
        self.verdict = verdict
        self.assessment = assessment
        self.decision = decision
        self.events = events
    }
}
