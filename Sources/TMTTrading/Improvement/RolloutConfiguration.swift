import TMTBase

/// Thresholds and pacing of a staged rollout. Relative performance is
/// `(variant − baseline) / |baseline|` of `metric`, measured on the trades of the current stage.
public struct RolloutConfiguration: Codable, Sendable, Equatable {
    /// How much `IMPROVEMENT_CYCLE_FAST=true` divides observation periods by: 60, so a period
    /// written in minutes passes in as many seconds (a 24 h stage takes 24 min in staging).
    public static let fastCycleFactor: Double = 60

    /// Percentages of accounts running the variant at each stage, increasing, ending at 100.
    /// Default `[10, 25, 50, 100]`.
    public var stages: [Int]
    /// Minimum time each stage is observed before it may advance, in seconds (before the
    /// fast-cycle compression). Default 86 400 (24 h).
    public var observationPeriod: TimeInterval
    /// Minimum variant trades in a stage before it may advance. Default 30.
    public var minimumSamples: Int
    /// Minimum variant trades in a stage before rollback or emergency stop may fire, so one
    /// early loss cannot abort a rollout. Default 10.
    public var guardMinimumSamples: Int
    /// Relative performance a stage must keep (≥) to advance; 0 means "no worse than the
    /// baseline". Default 0.
    public var advanceThreshold: Double
    /// Relative performance at or below which the rollout is rolled back. Default −0.10.
    public var rollbackThreshold: Double
    /// Relative performance at or below which the rollout stops at once, from any stage.
    /// Default −0.20.
    public var emergencyStopThreshold: Double
    /// The metric relative performance is computed on. Default `.expectancy`.
    public var metric: ImprovementMetric
    /// `IMPROVEMENT_CYCLE_FAST`: divide `observationPeriod` by `fastCycleFactor`. Default false.
    public var fastCycle: Bool

    public init(stages: [Int] = [10, 25, 50, 100], observationPeriod: TimeInterval = 86_400,
                minimumSamples: Int = 30, guardMinimumSamples: Int = 10, advanceThreshold: Double = 0,
                rollbackThreshold: Double = -0.10, emergencyStopThreshold: Double = -0.20,
                metric: ImprovementMetric = .expectancy, fastCycle: Bool = false) {
        self.stages = stages
        self.observationPeriod = observationPeriod
        self.minimumSamples = minimumSamples
        self.guardMinimumSamples = guardMinimumSamples
        self.advanceThreshold = advanceThreshold
        self.rollbackThreshold = rollbackThreshold
        self.emergencyStopThreshold = emergencyStopThreshold
        self.metric = metric
        self.fastCycle = fastCycle
    }

    /// The observation period actually waited, in seconds, after fast-cycle compression.
    public var effectiveObservationPeriod: TimeInterval {
        fastCycle ? observationPeriod / Self.fastCycleFactor : observationPeriod
    }

    /// Reads `IMPROVEMENT_CYCLE_FAST` from `environment` into `fastCycle`: `true`/`false`
    /// (case-insensitive) or absent (left as is); any other value is refused.
    public mutating func apply(environment: [String: String]) throws {
        guard let raw = environment["IMPROVEMENT_CYCLE_FAST"] else { return }
        switch raw.lowercased() {
        case "true": fastCycle = true
        case "false": fastCycle = false
        default:
            throw RolloutError(code: .invalidConfiguration,
                               detail: "IMPROVEMENT_CYCLE_FAST must be true or false, got \"\(raw)\"")
        }
    }

    /// Refuses inconsistent settings, naming the field.
    public func validate() throws {
        func fail(_ detail: String) -> RolloutError { RolloutError(code: .invalidConfiguration, detail: detail) }
        guard let last = stages.last, last == 100 else { throw fail("stages must end at 100, got \(stages)") }
        guard stages.allSatisfy({ (1...100).contains($0) }), zip(stages, stages.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw fail("stages must be increasing percentages in 1...100, got \(stages)")
        }
        guard observationPeriod > 0 else { throw fail("observationPeriod must be > 0 s, got \(observationPeriod)") }
        guard minimumSamples >= 1, guardMinimumSamples >= 1 else {
            throw fail("minimumSamples and guardMinimumSamples must be ≥ 1")
        }
        guard emergencyStopThreshold < rollbackThreshold, rollbackThreshold < advanceThreshold else {
            throw fail("thresholds must satisfy emergencyStop < rollback < advance, got \(emergencyStopThreshold), \(rollbackThreshold), \(advanceThreshold)")
        }
    }
}
