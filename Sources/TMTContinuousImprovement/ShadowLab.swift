import TMTBase
import TMTCore
import TMTPipeline
import TMTTrading

/// One shadow evaluation cycle: the stored bars of every configured instrument replayed with the
/// baseline Wyckoff parameters and with each variant through `WyckoffShadowSimulator` (the live
/// detector and the paper fill model), judged by `ShadowEvaluator` + `ProposalPolicy`.
struct ShadowLab: Sendable {
    /// What a cycle found for one variant.
    struct Outcome: Sendable {
        var variant: ShadowVariant
        var evaluation: ShadowEvaluation
        /// Short codes of the failed criteria (`variant_samples`, `baseline_samples`, `p_value`,
        /// `improvement`), empty when proposed.
        var failed: [String]
    }

    /// The bars replayed and the outcomes.
    struct Cycle: Sendable {
        var instruments: [String]
        var barCount: Int
        var from: Int64
        var to: Int64
        var baselineTrades: Int
        var outcomes: [Outcome]
        /// Variants skipped because they change nothing against the current baseline.
        var unchanged: [String]
    }

    let settings: ImprovementSettings
    let bars: BarStore
    let model: FillModel

    /// Runs every variant against `baseline` on the latest stored bars.
    func run(baseline: WyckoffParameters) throws -> Cycle {
        var all: [Bar] = []
        var used: [String] = []
        for instrument in settings.shadowInstruments {
            let series = try bars.recent(instrument: instrument, timeframeSeconds: baseline.timeframeSeconds, limit: settings.shadowBars)
            if !series.isEmpty { used.append(instrument) }
            all += series
        }
        let simulator = try WyckoffShadowSimulator(baseline: baseline, model: model, lots: settings.shadowLots)
        let baselineTrades = try simulator.simulate(bars: all, parameters: [:])
        // The baseline's trades are the same for every variant: simulate them once.
        let cached = ClosureShadowTradeSimulator { bars, parameters in
            parameters.isEmpty ? baselineTrades : try simulator.simulate(bars: bars, parameters: parameters)
        }
        let evaluator = ShadowEvaluator(simulator: cached, policy: settings.policy, startingBalance: settings.startingBalance)
        var outcomes: [Outcome] = []
        var unchanged: [String] = []
        for variant in settings.variants {
            guard try baseline.applying(updates: variant.parameters) != baseline else {
                unchanged.append(variant.name)
                continue
            }
            let evaluation = try evaluator.evaluate(bars: all, baseline: [:], variant: variant.parameters)
            outcomes.append(Outcome(variant: variant, evaluation: evaluation, failed: Self.failedCriteria(evaluation.decision, settings.policy)))
        }
        return Cycle(instruments: used, barCount: all.count, from: all.map(\.start).min() ?? 0, to: all.map(\.start).max() ?? 0,
                     baselineTrades: baselineTrades.count, outcomes: outcomes, unchanged: unchanged)
    }

    static func failedCriteria(_ d: ProposalDecision, _ policy: ProposalPolicy) -> [String] {
        guard !d.propose else { return [] }
        var codes: [String] = []
        if d.reasons.contains(where: { $0.hasPrefix("variant has") }) { codes.append("variant_samples") }
        if d.reasons.contains(where: { $0.hasPrefix("baseline has") }) { codes.append("baseline_samples") }
        if !(d.pValue.map { $0 < policy.significanceLevel } ?? false) { codes.append("p_value") }
        if !(d.relativeImprovement.map { $0 >= policy.minimumRelativeImprovement } ?? false) { codes.append("improvement") }
        return codes
    }

    /// The parameters wyckoff-analysis starts with: its configuration file's `parameters:`
    /// (`WYCKOFF_CONFIG`, default `<CONFIG_DIR>/wyckoff-analysis-staging.yml`, if present) and
    /// `DETECTION_INTERVAL`, then every completed experiment's changes in order.
    static func baseline(configDirectory: String, environment env: Environment, completed: [[String: String]]) throws -> WyckoffParameters {
        var p = WyckoffParameters()
        let explicit = env.string("WYCKOFF_CONFIG")
        let path = explicit ?? "\(configDirectory)/wyckoff-analysis-staging.yml"
        if explicit != nil || FileManager.default.fileExists(atPath: path) {
            let config = try ConfigNode.load(path: path)
            if let node = config.child("parameters") {
                var updates: [String: String] = [:]
                for (key, value) in node.children { updates[key] = try value.asString() }
                do { p = try p.applying(updates: updates) } catch { throw TMTError(.configuration, "\(path): \(error)") }
            }
        }
        if let interval = env.string("DETECTION_INTERVAL") {
            do { p = try p.applying(updates: ["timeframeSeconds": interval]) } catch {
                throw TMTError(.configuration, "environment variable DETECTION_INTERVAL: \(error)")
            }
        }
        for change in completed { p = (try? p.applying(updates: change)) ?? p }
        return p
    }

    /// The baseline's values of the fields `updates` names, as text `config.updates` accepts.
    static func values(of parameters: WyckoffParameters, for updates: [String: String]) throws -> [String: String] {
        let object = try JSONDecoder().decode([String: Scalar].self, from: JSONEncoder().encode(parameters))
        var out: [String: String] = [:]
        for key in updates.keys { if let v = object[key] { out[key] = v.text } }
        return out
    }

    /// A JSON scalar read back as the text `applying(updates:)` parses.
    private struct Scalar: Decodable {
        let text: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { text = b ? "true" : "false" }
            else if let i = try? c.decode(Int.self) { text = String(i) }
            else if let d = try? c.decode(Double.self) { text = "\(d)" }
            else { text = try c.decode(String.self) }
        }
    }
}
