/// Names one breaker: its tier and the target inside the tier (agent service name, account id,
/// instrument symbol, or `system`).
public struct BreakerKey: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    /// The tier.
    public var tier: BreakerTier
    /// The agent service name, account id, instrument symbol, or `system` for the system tier.
    public var target: String

    public init(tier: BreakerTier, target: String) {
        self.tier = tier
        self.target = tier == .system ? Self.systemTarget : target
    }

    /// The target name of the single system breaker.
    public static let systemTarget = "system"
    /// The system breaker.
    public static let system = BreakerKey(tier: .system, target: systemTarget)
    /// The breaker of agent service `name`.
    public static func agent(_ name: String) -> BreakerKey { BreakerKey(tier: .agent, target: name) }
    /// The breaker of account `id`.
    public static func account(_ id: String) -> BreakerKey { BreakerKey(tier: .account, target: id) }
    /// The breaker of instrument `symbol`.
    public static func instrument(_ symbol: String) -> BreakerKey { BreakerKey(tier: .instrument, target: symbol) }

    /// `system`, `agent aria-risk`, `account acc-1`, `instrument EUR_USD`: how details and
    /// block reasons name a breaker.
    public var description: String { tier == .system ? "system" : "\(tier.rawValue) \(target)" }

    /// By tier, then target.
    public static func < (lhs: BreakerKey, rhs: BreakerKey) -> Bool {
        lhs.tier != rhs.tier ? lhs.tier < rhs.tier : lhs.target < rhs.target
    }
}
