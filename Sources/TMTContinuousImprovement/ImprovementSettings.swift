import TMTBase
import TMTCore
import TMTTrading

/// A parameter variant the shadow runs try against the baseline.
struct ShadowVariant: Sendable, Equatable {
    /// A short name for logs, metrics and experiment ids (letters, digits, `-`, `_`, `.`).
    var name: String
    /// Parameter changes, as `config.updates` carries them (field → text).
    var parameters: [String: String]
}

/// Everything the continuous-improvement agent is tuned with: environment first, then
/// `config/continuous-improvement-staging.yml` (or `--config`). Validated once at start-up; an
/// invalid value stops it naming the variable, or the file, line and key.
struct ImprovementSettings: Sendable {
    /// `IMPROVEMENT_CYCLE_FAST`: compress every period by `RolloutConfiguration.fastCycleFactor`
    /// (60: minutes become seconds). Default false.
    var fastCycle = false
    /// Seconds between analytics runs (before compression). Default 300; env
    /// `IMPROVEMENT_ANALYTICS_INTERVAL_SECONDS` (taken as is), file `cycles.analytics_seconds`.
    /// A fill on `executions.fills` also triggers a run, at most once a second.
    var analyticsInterval: Double = 300
    /// Seconds between shadow evaluations (before compression). Default 3 600; env
    /// `IMPROVEMENT_SHADOW_INTERVAL_SECONDS`, file `cycles.shadow_seconds`.
    var shadowInterval: Double = 3_600
    /// Seconds between rollout observations (before compression). Default 60; env
    /// `IMPROVEMENT_ROLLOUT_INTERVAL_SECONDS`, file `cycles.rollout_seconds`.
    var rolloutInterval: Double = 60
    /// Instruments replayed by the shadow runs. Default: every instrument of the fill model.
    var shadowInstruments: [String] = FillModelConfiguration.staging.instruments.keys.sorted()
    /// Most recent bars per instrument a shadow run replays. Default 2 000; file `shadow.bars`.
    var shadowBars = 2_000
    /// Lots per shadow trade. Default 1; file `shadow.lots`.
    var shadowLots: Decimal = 1
    /// Equity base of shadow returns and drawdowns, account currency. Default 100 000; file
    /// `shadow.starting_balance`.
    var startingBalance: Decimal = 100_000
    /// The variants tried; file `variants:` (a list of `name` + `parameters`).
    var variants: [ShadowVariant] = ImprovementSettings.defaultVariants
    /// When a variant is proposed; file `policy:`.
    var policy = ProposalPolicy()
    /// Stages, pacing and guards of a rollout; file `rollout:`.
    var rollout = RolloutConfiguration()
    /// The service whose parameters are tuned.
    var service = "wyckoff-analysis"

    /// Perturbations of the Wyckoff parameters that matter most for a trade's outcome.
    static let defaultVariants: [ShadowVariant] = [
        ShadowVariant(name: "stop-0.75atr", parameters: ["stopATR": "0.75"]),
        ShadowVariant(name: "stop-0.35atr", parameters: ["stopATR": "0.35"]),
        ShadowVariant(name: "confidence-0.6", parameters: ["minConfidence": "0.6"]),
        ShadowVariant(name: "reward-risk-2", parameters: ["minRewardRisk": "2"]),
        ShadowVariant(name: "target-range-opposite", parameters: ["targetRule": "rangeOpposite"]),
    ]

    /// Periods actually waited, in seconds.
    var effectiveAnalyticsInterval: Double { analyticsIntervalOverride ?? compress(analyticsInterval) }
    var effectiveShadowInterval: Double { shadowIntervalOverride ?? compress(shadowInterval) }
    var effectiveRolloutInterval: Double { rolloutIntervalOverride ?? compress(rolloutInterval) }
    private var analyticsIntervalOverride: Double?
    private var shadowIntervalOverride: Double?
    private var rolloutIntervalOverride: Double?

    private func compress(_ seconds: Double) -> Double {
        fastCycle ? max(seconds / RolloutConfiguration.fastCycleFactor, 1) : seconds
    }

    /// Reads the file (if any), then the environment, and validates the whole.
    init(config: ConfigNode?, environment env: Environment, fillModel: FillModelConfiguration) throws {
        if let config { try read(config, fillModel: fillModel) }
        do { try rollout.apply(environment: env.values) } catch is RolloutError {
            throw TMTError(.configuration, "environment variable IMPROVEMENT_CYCLE_FAST: expected true or false, got '\(env.values["IMPROVEMENT_CYCLE_FAST"] ?? "")'")
        }
        fastCycle = rollout.fastCycle
        let positive = 0.1...604_800.0
        if env.string("IMPROVEMENT_ANALYTICS_INTERVAL_SECONDS") != nil {
            analyticsIntervalOverride = try env.double("IMPROVEMENT_ANALYTICS_INTERVAL_SECONDS", default: 0, range: positive)
        }
        if env.string("IMPROVEMENT_SHADOW_INTERVAL_SECONDS") != nil {
            shadowIntervalOverride = try env.double("IMPROVEMENT_SHADOW_INTERVAL_SECONDS", default: 0, range: positive)
        }
        if env.string("IMPROVEMENT_ROLLOUT_INTERVAL_SECONDS") != nil {
            rolloutIntervalOverride = try env.double("IMPROVEMENT_ROLLOUT_INTERVAL_SECONDS", default: 0, range: positive)
        }
        do { try rollout.validate() } catch let e as RolloutError {
            throw TMTError(.configuration, "\(config?.file ?? "rollout defaults"): rollout: \(e.detail)")
        }
    }

    private mutating func read(_ root: ConfigNode, fillModel: FillModelConfiguration) throws {
        try root.allowOnly(["cycles", "shadow", "variants", "policy", "rollout"])
        if let c = root.child("cycles") {
            try c.allowOnly(["analytics_seconds", "shadow_seconds", "rollout_seconds"])
            analyticsInterval = try Self.positive(c, "analytics_seconds", analyticsInterval)
            shadowInterval = try Self.positive(c, "shadow_seconds", shadowInterval)
            rolloutInterval = try Self.positive(c, "rollout_seconds", rolloutInterval)
        }
        if let s = root.child("shadow") {
            try s.allowOnly(["instruments", "bars", "lots", "starting_balance"])
            if let list = s.child("instruments") {
                let items = try list.items()
                guard !items.isEmpty else { throw list.error("needs at least one instrument") }
                shadowInstruments = try items.map { item in
                    let symbol = try item.asString()
                    guard fillModel.instruments[symbol] != nil else {
                        throw item.error("unknown instrument '\(symbol)' (known: \(fillModel.instruments.keys.sorted().joined(separator: ", ")))")
                    }
                    return symbol
                }
            }
            shadowBars = try s.int("bars", default: shadowBars)
            guard (50...100_000).contains(shadowBars) else { throw s.error("must be 50...100000, got \(shadowBars)", key: "bars") }
            shadowLots = try s.decimal("lots", default: shadowLots)
            guard shadowLots > 0 else { throw s.error("must be > 0, got \(shadowLots)", key: "lots") }
            startingBalance = try s.decimal("starting_balance", default: startingBalance)
            guard startingBalance > 0 else { throw s.error("must be > 0, got \(startingBalance)", key: "starting_balance") }
        }
        if let list = root.child("variants") {
            var seen: Set<String> = []
            variants = try list.items().map { item in
                try item.allowOnly(["name", "parameters"])
                let name = try item.string("name")
                guard !name.isEmpty, name.count <= 60,
                      name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                    throw item.error("must be 1-60 letters, digits, '-', '_' or '.', got '\(name)'", key: "name")
                }
                guard seen.insert(name).inserted else { throw item.error("duplicate variant name '\(name)'", key: "name") }
                let p = try item.require("parameters")
                var parameters: [String: String] = [:]
                for (key, node) in p.children { parameters[key] = try node.asString() }
                guard !parameters.isEmpty else { throw p.error("needs at least one parameter") }
                do { _ = try WyckoffParameters().applying(updates: parameters) } catch let e as WyckoffParameters.InvalidParameter {
                    throw p.error(e.reason, key: e.field)
                }
                return ShadowVariant(name: name, parameters: parameters)
            }
        }
        if let p = root.child("policy") {
            try p.allowOnly(["metric", "significance_level", "minimum_improvement", "minimum_samples"])
            policy.metric = try Self.metric(p, policy.metric)
            policy.significanceLevel = try p.double("significance_level", default: policy.significanceLevel)
            guard policy.significanceLevel > 0, policy.significanceLevel < 1 else {
                throw p.error("must be in (0, 1), got \(policy.significanceLevel)", key: "significance_level")
            }
            policy.minimumRelativeImprovement = try p.double("minimum_improvement", default: policy.minimumRelativeImprovement)
            guard policy.minimumRelativeImprovement >= 0 else {
                throw p.error("must be ≥ 0 (a fraction: 0.01 = 1 %), got \(policy.minimumRelativeImprovement)", key: "minimum_improvement")
            }
            policy.minimumSampleSize = try p.int("minimum_samples", default: policy.minimumSampleSize)
            guard policy.minimumSampleSize >= 2 else {
                throw p.error("must be ≥ 2, got \(policy.minimumSampleSize)", key: "minimum_samples")
            }
        }
        if let r = root.child("rollout") {
            try r.allowOnly(["stages", "observation_minutes", "minimum_samples", "guard_minimum_samples", "advance_threshold",
                             "rollback_threshold", "emergency_stop_threshold", "metric"])
            if let stages = r.child("stages") { rollout.stages = try stages.items().map { try $0.asInt() } }
            if r.child("observation_minutes") != nil {
                rollout.observationPeriod = try Self.positive(r, "observation_minutes", rollout.observationPeriod / 60) * 60
            }
            rollout.minimumSamples = try r.int("minimum_samples", default: rollout.minimumSamples)
            rollout.guardMinimumSamples = try r.int("guard_minimum_samples", default: rollout.guardMinimumSamples)
            rollout.advanceThreshold = try r.double("advance_threshold", default: rollout.advanceThreshold)
            rollout.rollbackThreshold = try r.double("rollback_threshold", default: rollout.rollbackThreshold)
            rollout.emergencyStopThreshold = try r.double("emergency_stop_threshold", default: rollout.emergencyStopThreshold)
            rollout.metric = try Self.metric(r, rollout.metric)
            do { try rollout.validate() } catch let e as RolloutError { throw r.error(e.detail) }
        }
    }

    private static func positive(_ node: ConfigNode, _ key: String, _ current: Double) throws -> Double {
        let v = try node.double(key, default: current)
        guard v > 0 else { throw node.error("must be > 0, got \(v)", key: key) }
        return v
    }

    private static func metric(_ node: ConfigNode, _ current: ImprovementMetric) throws -> ImprovementMetric {
        guard let c = node.child("metric") else { return current }
        let raw = try c.asString()
        guard let m = ImprovementMetric(rawValue: raw) else {
            throw c.error("expected one of \(ImprovementMetric.allCases.map(\.rawValue).joined(separator: ", ")), got '\(raw)'")
        }
        return m
    }
}
