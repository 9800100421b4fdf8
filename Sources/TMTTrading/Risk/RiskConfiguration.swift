import TMTBase

/// ARIA's sizing settings, validated once at start-up with `validate()`.
///
/// Codable (JSON keys are the property names; any missing key takes its default), or built in
/// code. `RISK_MULTIPLIER` from the environment overrides `riskMultiplier` via
/// `applying(environment:)`.
public struct RiskConfiguration: Codable, Sendable, Equatable {
    /// Largest allowed `riskMultiplier`: a staging knob to scale risk, not to multiply it without bound.
    public static let maximumRiskMultiplier: Decimal = 3
    /// Largest allowed risk per trade, percent of balance.
    public static let maximumRiskPercent: Decimal = 10

    /// Percent of the balance risked per trade for accounts without their own entry; default 1.
    public var defaultRiskPercent: Decimal
    /// Percent of the balance risked per trade, by account id; overrides `defaultRiskPercent`.
    public var accountRiskPercent: [String: Decimal]
    /// Scales every size after the factors (`RISK_MULTIPLIER`); in (0, 3]; default 1.
    public var riskMultiplier: Decimal
    /// Percent of the free margin left unused as a buffer against price moves; in [0, 100); default 10.
    public var marginBufferPercent: Decimal
    /// ATR-percentile volatility mapping.
    public var volatility: VolatilityFactor.Parameters
    /// Drawdown and daily-loss mapping.
    public var drawdown: DrawdownFactor.Parameters
    /// Correlation window and mapping.
    public var correlation: CorrelationFactor.Parameters

    public init(defaultRiskPercent: Decimal = 1, accountRiskPercent: [String: Decimal] = [:], riskMultiplier: Decimal = 1,
                marginBufferPercent: Decimal = 10, volatility: VolatilityFactor.Parameters = .init(),
                drawdown: DrawdownFactor.Parameters = .init(), correlation: CorrelationFactor.Parameters = .init()) {
        self.defaultRiskPercent = defaultRiskPercent
        self.accountRiskPercent = accountRiskPercent
        self.riskMultiplier = riskMultiplier
        self.marginBufferPercent = marginBufferPercent
        self.volatility = volatility
        self.drawdown = drawdown
        self.correlation = correlation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RiskConfiguration()
        self.init(
            defaultRiskPercent: try c.decodeIfPresent(Decimal.self, forKey: .defaultRiskPercent) ?? d.defaultRiskPercent,
            accountRiskPercent: try c.decodeIfPresent([String: Decimal].self, forKey: .accountRiskPercent) ?? d.accountRiskPercent,
            riskMultiplier: try c.decodeIfPresent(Decimal.self, forKey: .riskMultiplier) ?? d.riskMultiplier,
            marginBufferPercent: try c.decodeIfPresent(Decimal.self, forKey: .marginBufferPercent) ?? d.marginBufferPercent,
            volatility: try c.decodeIfPresent(VolatilityFactor.Parameters.self, forKey: .volatility) ?? d.volatility,
            drawdown: try c.decodeIfPresent(DrawdownFactor.Parameters.self, forKey: .drawdown) ?? d.drawdown,
            correlation: try c.decodeIfPresent(CorrelationFactor.Parameters.self, forKey: .correlation) ?? d.correlation)
    }

    /// The risk percent for `accountId`.
    public func riskPercent(forAccount accountId: String) -> Decimal {
        accountRiskPercent[accountId] ?? defaultRiskPercent
    }

    /// Throws a `.configuration` error naming the first invalid field (e.g. `riskMultiplier`,
    /// `volatility.atrPeriod`, `accountRiskPercent[acct-1]`) and the allowed range.
    public func validate() throws(TMTError) {
        func fail(_ field: String, _ problem: String) -> TMTError {
            TMTError(.configuration, "risk configuration: \(field) \(problem)")
        }
        let maxPercent = Self.maximumRiskPercent
        if defaultRiskPercent <= 0 || defaultRiskPercent > maxPercent {
            throw fail("defaultRiskPercent", "must be in (0, \(maxPercent)], got \(defaultRiskPercent)")
        }
        for (account, percent) in accountRiskPercent.sorted(by: { $0.key < $1.key }) where percent <= 0 || percent > maxPercent {
            throw fail("accountRiskPercent[\(account)]", "must be in (0, \(maxPercent)], got \(percent)")
        }
        if riskMultiplier <= 0 || riskMultiplier > Self.maximumRiskMultiplier {
            throw fail("riskMultiplier", "must be in (0, \(Self.maximumRiskMultiplier)], got \(riskMultiplier)")
        }
        if marginBufferPercent < 0 || marginBufferPercent >= 100 {
            throw fail("marginBufferPercent", "must be in [0, 100), got \(marginBufferPercent)")
        }
        if let (field, problem) = volatility.problem() { throw fail("volatility.\(field)", problem) }
        if let (field, problem) = drawdown.problem() { throw fail("drawdown.\(field)", problem) }
        if let (field, problem) = correlation.problem() { throw fail("correlation.\(field)", problem) }
    }

    /// This configuration with `RISK_MULTIPLIER` applied when it is set, validated; a malformed
    /// or out-of-range value is an error naming the variable.
    public func applying(environment: Environment) throws(TMTError) -> RiskConfiguration {
        var copy = self
        if let raw = environment.string("RISK_MULTIPLIER") {
            guard let value = RiskDecimal.parse(raw) else {
                throw TMTError(.configuration, "environment variable RISK_MULTIPLIER: expected a decimal number, got '\(raw)'")
            }
            guard value > 0, value <= Self.maximumRiskMultiplier else {
                throw TMTError(.configuration,
                               "environment variable RISK_MULTIPLIER: must be in (0, \(Self.maximumRiskMultiplier)], got '\(raw)'")
            }
            copy.riskMultiplier = value
        }
        try copy.validate()
        return copy
    }
}
