/// An operator command from `breaker.commands` (issued through the API gateway).
public struct BreakerCommand: Codable, Sendable, Equatable {
    /// What to do.
    public enum Action: String, Codable, Sendable {
        /// Trip the target breaker; it stays tripped until a reset.
        case trip
        /// Force the target breaker to normal (its conditions re-arm from the next readings; a
        /// drawdown reset accepts the day's loss so far, see `CircuitBreaker`).
        case reset
        /// Close every open position of the target account (tier `account`) or of all accounts
        /// (tier `system`) with market orders, and trip the target so nothing new opens.
        case flatten
    }

    /// Unique command id; commands are idempotent by it.
    public var id: String
    /// What to do.
    public var action: Action
    /// The tier of the target.
    public var tier: BreakerTier
    /// Agent name, account id or instrument symbol; nil or `system` for the system tier.
    public var target: String?
    /// Why (required for trip and flatten; recorded for all).
    public var reason: String
    /// Who issued it (required); JSON key `operator`.
    public var requestedBy: String
    /// When it was issued, µs since the epoch.
    public var issuedAt: Int64

    public init(id: String, action: Action, tier: BreakerTier, target: String? = nil, reason: String, requestedBy: String,
                issuedAt: Int64) {
        self.id = id
        self.action = action
        self.tier = tier
        self.target = target
        self.reason = reason
        self.requestedBy = requestedBy
        self.issuedAt = issuedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, action, tier, target, reason
        case requestedBy = "operator"
        case issuedAt
    }

    /// The breaker the command addresses, or nil when the target is missing.
    public var key: BreakerKey? {
        if tier == .system { return .system }
        guard let target, !target.isEmpty else { return nil }
        return BreakerKey(tier: tier, target: target)
    }
}
