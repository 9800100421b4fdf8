import TMTBase

/// What the circuit breaker watches: its thresholds and the rosters it expects to hear from.
public struct BreakerConfiguration: Sendable, Equatable {
    /// Limits, windows and recovery policies.
    public var thresholds: BreakerThresholds
    /// Agents on the order path. Their breakers count in every account's trading state: one
    /// down (tripped or half-open) makes it REDUCING, `criticalAgentsDownToHalt` down or any
    /// still unknown makes it HALTED. Default `pipelineAgents`.
    public var criticalAgents: Set<String>
    /// Agents whose heartbeats are expected from start-up (critical ones are always included);
    /// any other agent is watched from its first heartbeat. Their breakers are visible but do
    /// not affect trading. Default `wyckoff-analysis`, `continuous-improvement`.
    public var monitoredAgents: Set<String>
    /// Accounts expected from start-up: their breakers exist (unknown) before the first update,
    /// and the system drawdown waits for all of them. Others join on their first update.
    public var accounts: [String]
    /// Instruments expected from start-up (unknown until their first tick). Others join on their
    /// first tick; an order in an instrument never seen is HALTED (no price to judge it by).
    public var instruments: [String]
    /// Daily drawdown limits (percent of start-of-day equity) of particular accounts, replacing
    /// `thresholds.accountDailyDrawdownPercent` for them (e.g. a stricter firm's account). The
    /// warning level stays `limit × drawdownWarningFraction`. Default none.
    public var accountDailyDrawdownPercent: [String: Decimal]

    /// The agents between a signal and a fill.
    public static let pipelineAgents: Set<String> = ["aria-risk", "compliance-engine", "anti-correlation", "human-behavior",
                                                      "execution-engine"]

    public init(thresholds: BreakerThresholds = .standard, criticalAgents: Set<String> = pipelineAgents,
                monitoredAgents: Set<String> = ["wyckoff-analysis", "continuous-improvement"], accounts: [String] = [],
                instruments: [String] = [], accountDailyDrawdownPercent: [String: Decimal] = [:]) {
        self.thresholds = thresholds
        self.criticalAgents = criticalAgents
        self.monitoredAgents = monitoredAgents
        self.accounts = accounts
        self.instruments = instruments
        self.accountDailyDrawdownPercent = accountDailyDrawdownPercent
    }

    /// The daily drawdown limit of `account`: its own, else the thresholds'.
    public func dailyDrawdownLimit(account: String) -> Decimal {
        accountDailyDrawdownPercent[account] ?? thresholds.accountDailyDrawdownPercent
    }

    /// Every agent watched from start-up: monitored ∪ critical.
    public var watchedAgents: Set<String> { monitoredAgents.union(criticalAgents) }
}

extension BreakerConfiguration {
    /// Reads `config/circuit-breaker-staging.yml`: the preset chosen by
    /// `CIRCUIT_BREAKER_THRESHOLDS_LOOSE` in `environment`, overridden by the file's
    /// `thresholds:`, and the rosters. Every key is optional.
    ///
    /// ```yaml
    /// critical_agents:            # block sequences; default: the pipeline agents
    /// monitored_agents:           # default: wyckoff-analysis, continuous-improvement
    /// accounts:                   # default: none (accounts join on their first update)
    /// instruments:                # default: none
    /// thresholds:                 # a mapping, see BreakerThresholds.applying(_:)
    /// account_daily_drawdown_percent:   # account id → percent (> 0, ≤ 100), replacing the threshold
    ///   acct-strict-50k: 3.5
    /// ```
    public init(node: ConfigNode, environment: Environment) throws {
        try node.allowOnly(["critical_agents", "monitored_agents", "accounts", "instruments", "thresholds",
                            "account_daily_drawdown_percent"])
        var thresholds = try BreakerThresholds(environment: environment)
        if let t = node.child("thresholds") { thresholds = try thresholds.applying(t) }
        func list(_ key: String) throws(YAMLError) -> [String]? {
            guard let c = node.child(key) else { return nil }
            var out: [String] = []
            for item in try c.items() { out.append(try item.asString()) }
            return out
        }
        var limits: [String: Decimal] = [:]
        for (account, value) in node.child("account_daily_drawdown_percent")?.children ?? [] {
            let percent = try value.asDecimal()
            guard percent > 0, percent <= 100 else {
                throw value.error("the daily drawdown limit of \(account) must be in (0, 100], got \(percent)")
            }
            limits[account] = percent
        }
        let defaults = BreakerConfiguration()
        self.init(thresholds: thresholds,
                  criticalAgents: try list("critical_agents").map(Set.init) ?? defaults.criticalAgents,
                  monitoredAgents: try list("monitored_agents").map(Set.init) ?? defaults.monitoredAgents,
                  accounts: try list("accounts") ?? [], instruments: try list("instruments") ?? [],
                  accountDailyDrawdownPercent: limits)
    }
}
