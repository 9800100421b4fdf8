import TMTBase
import TMTModels

/// How much of the normal risk to take given how much the account has lost: the drawdown from
/// its equity high-water mark and, when the firm has a daily loss limit, how much of today's
/// limit is used. The stricter of the two applies.
///
/// Mapping (defaults in brackets): drawdown d % → 1 for d ≤ `startPercent` [2], falling
/// linearly to `minimumFactor` [0.25] at d ≥ `fullPercent` [8]; e.g. d = 5 → 0.625. Daily loss
/// used u % of the limit → 1 for u ≤ `dailyStartPercent` [50], falling linearly to
/// `dailyMinimumFactor` [0.25] at u ≥ `dailyFullPercent` [90]. Factors are rounded down to 4
/// places.
public struct DrawdownFactor: Sendable, Equatable {
    /// The mapping from drawdown and daily-loss use to factor; see the type's documentation.
    public struct Parameters: Codable, Sendable, Equatable {
        /// Drawdown from the high-water mark (percent) up to which risk is not reduced; default 2.
        public var startPercent: Decimal
        /// Drawdown (percent) at and beyond which the factor is `minimumFactor`; default 8.
        public var fullPercent: Decimal
        /// Factor at deep drawdown (0…1]; default 0.25.
        public var minimumFactor: Decimal
        /// Share of the daily loss limit already lost (percent) up to which risk is not reduced; default 50.
        public var dailyStartPercent: Decimal
        /// Share of the daily loss limit (percent) at and beyond which the factor is `dailyMinimumFactor`; default 90.
        public var dailyFullPercent: Decimal
        /// Factor near the daily limit (0…1]; default 0.25.
        public var dailyMinimumFactor: Decimal

        public init(startPercent: Decimal = 2, fullPercent: Decimal = 8, minimumFactor: Decimal = Decimal(string: "0.25")!,
                    dailyStartPercent: Decimal = 50, dailyFullPercent: Decimal = 90,
                    dailyMinimumFactor: Decimal = Decimal(string: "0.25")!) {
            self.startPercent = startPercent
            self.fullPercent = fullPercent
            self.minimumFactor = minimumFactor
            self.dailyStartPercent = dailyStartPercent
            self.dailyFullPercent = dailyFullPercent
            self.dailyMinimumFactor = dailyMinimumFactor
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Parameters()
            self.init(
                startPercent: try c.decodeIfPresent(Decimal.self, forKey: .startPercent) ?? d.startPercent,
                fullPercent: try c.decodeIfPresent(Decimal.self, forKey: .fullPercent) ?? d.fullPercent,
                minimumFactor: try c.decodeIfPresent(Decimal.self, forKey: .minimumFactor) ?? d.minimumFactor,
                dailyStartPercent: try c.decodeIfPresent(Decimal.self, forKey: .dailyStartPercent) ?? d.dailyStartPercent,
                dailyFullPercent: try c.decodeIfPresent(Decimal.self, forKey: .dailyFullPercent) ?? d.dailyFullPercent,
                dailyMinimumFactor: try c.decodeIfPresent(Decimal.self, forKey: .dailyMinimumFactor) ?? d.dailyMinimumFactor)
        }

        /// The first invalid field as `(name, problem)`, or nil.
        func problem() -> (String, String)? {
            if startPercent < 0 || startPercent >= 100 { return ("startPercent", "must be in 0..<100, got \(startPercent)") }
            if fullPercent <= startPercent || fullPercent > 100 {
                return ("fullPercent", "must be above startPercent (\(startPercent)) and at most 100, got \(fullPercent)")
            }
            if minimumFactor <= 0 || minimumFactor > 1 { return ("minimumFactor", "must be in (0, 1], got \(minimumFactor)") }
            if dailyStartPercent < 0 || dailyStartPercent >= 100 {
                return ("dailyStartPercent", "must be in 0..<100, got \(dailyStartPercent)")
            }
            if dailyFullPercent <= dailyStartPercent || dailyFullPercent > 100 {
                return ("dailyFullPercent", "must be above dailyStartPercent (\(dailyStartPercent)) and at most 100, got \(dailyFullPercent)")
            }
            if dailyMinimumFactor <= 0 || dailyMinimumFactor > 1 {
                return ("dailyMinimumFactor", "must be in (0, 1], got \(dailyMinimumFactor)")
            }
            return nil
        }
    }

    /// The factor applied to the size: the smaller of `highWaterFactor` and `dailyFactor`.
    public var factor: Decimal
    /// Drawdown from the high-water mark, percent (exact).
    public var drawdownPercent: Decimal
    /// Factor from the drawdown alone.
    public var highWaterFactor: Decimal
    /// Today's loss as a percentage of the daily loss limit; nil without a limit.
    public var dailyLossUsedPercent: Decimal?
    /// Factor from the daily loss alone; nil without a limit.
    public var dailyFactor: Decimal?

    public init(factor: Decimal, drawdownPercent: Decimal, highWaterFactor: Decimal, dailyLossUsedPercent: Decimal?,
                dailyFactor: Decimal?) {
        self.factor = factor
        self.drawdownPercent = drawdownPercent
        self.highWaterFactor = highWaterFactor
        self.dailyLossUsedPercent = dailyLossUsedPercent
        self.dailyFactor = dailyFactor
    }

    /// The factor for `account`; `dailyLossLimit` is the firm's daily loss allowance in the
    /// account currency (a non-positive one counts as fully used).
    public static func assess(account: Account, dailyLossLimit: Decimal?, parameters p: Parameters) -> DrawdownFactor {
        let dd = account.drawdownPercent
        let hwm = RiskDecimal.ramp(dd, start: p.startPercent, end: p.fullPercent, minimum: p.minimumFactor)
        guard let limit = dailyLossLimit else {
            return DrawdownFactor(factor: hwm, drawdownPercent: dd, highWaterFactor: hwm, dailyLossUsedPercent: nil, dailyFactor: nil)
        }
        let lost = max(0, -account.dailyPnL)
        let used: Decimal = limit > 0 ? lost / limit * 100 : 100
        let daily = RiskDecimal.ramp(used, start: p.dailyStartPercent, end: p.dailyFullPercent, minimum: p.dailyMinimumFactor)
        return DrawdownFactor(factor: min(hwm, daily), drawdownPercent: dd, highWaterFactor: hwm, dailyLossUsedPercent: used,
                              dailyFactor: daily)
    }
}
