import TMTBase

/// One breaker transition, as published on `breaker.events` and stored in `breaker_events`.
public struct BreakerEvent: Codable, Sendable, Equatable {
    /// Deterministic id `breaker-<tier>-<target>-<n>` (n counts the breaker's transitions), so a
    /// replay after a restart writes the same rows (`ON CONFLICT DO NOTHING`).
    public var id: String
    /// The breaker's tier.
    public var tier: BreakerTier
    /// The breaker's target (agent, account, instrument, or `system`).
    public var target: String
    /// State before; nil when it was unknown (awaiting data after start or restore).
    public var from: BreakerState?
    /// State after.
    public var to: BreakerState
    /// Why, with the figures.
    public var reason: BreakerReason
    /// When, µs since the epoch (the breaker's clock).
    public var at: Int64
    /// For a transition to `tripped`: when it will go half-open, µs since the epoch; nil for
    /// manual trips (they wait for a reset) and other transitions.
    public var recoveryAt: Int64?

    public init(id: String, tier: BreakerTier, target: String, from: BreakerState?, to: BreakerState, reason: BreakerReason,
                at: Int64, recoveryAt: Int64? = nil) {
        self.id = id
        self.tier = tier
        self.target = target
        self.from = from
        self.to = to
        self.reason = reason
        self.at = at
        self.recoveryAt = recoveryAt
    }

    /// The breaker this event belongs to.
    public var key: BreakerKey { BreakerKey(tier: tier, target: target) }
}
