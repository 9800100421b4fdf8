/// The trading state of one account (and optionally one instrument) with every breaker that
/// restricts it and why.
public struct TradingAssessment: Sendable, Equatable {
    /// One breaker that restricts trading.
    public struct Constraint: Sendable, Equatable {
        /// The restricting breaker.
        public var key: BreakerKey
        /// Its state; nil when unknown (missing, or awaiting data after start or restore).
        public var breakerState: BreakerState?
        /// What it allows: `reducing` or `halted`.
        public var effect: TradingState
        /// E.g. `account acc-1 tripped: daily drawdown 4.10 % … ≥ limit 4.00 %`.
        public var detail: String

        public init(key: BreakerKey, breakerState: BreakerState?, effect: TradingState, detail: String) {
            self.key = key
            self.breakerState = breakerState
            self.effect = effect
            self.detail = detail
        }
    }

    /// The account assessed.
    public var account: String
    /// The instrument assessed, if any.
    public var instrument: String?
    /// The most severe effect of all constraints; `active` when there are none.
    public var state: TradingState
    /// Restricting breakers in the order system, critical agents, account, instrument.
    public var constraints: [Constraint]
    /// Critical agents whose breakers are tripped, half-open or unknown, sorted.
    public var criticalAgentsDown: [String]

    public init(account: String, instrument: String?, constraints: [Constraint], criticalAgentsDown: [String]) {
        self.account = account
        self.instrument = instrument
        self.constraints = constraints
        self.criticalAgentsDown = criticalAgentsDown
        state = constraints.map(\.effect).max() ?? .active
    }

    /// The first constraint that blocks an order of this kind: with `riskReducing`, only a
    /// HALTED one; otherwise any.
    public func blockingConstraint(riskReducing: Bool) -> Constraint? {
        constraints.first { !$0.effect.allows(riskReducing: riskReducing) }
    }
}
