import Foundation
import TMTModels

/// The Wyckoff detectors of a staged rollout: the baseline every account trades by default,
/// plus one detector per account-scoped parameter variant, all fed the same bars. Signals say
/// whom they are for: a variant's signals name its accounts (and the experiment), and while any
/// variant is active the baseline's signals name everyone else in the roster, so each account
/// trades exactly one parameter set.
///
/// Updates (`config.updates`) are parameter deltas:
/// - service-wide (`accounts` nil): applied to the baseline; every variant ends, since the
///   rollout either completed (the variant is the new baseline) or was overridden by hand;
/// - account-scoped: those accounts now run the baseline with the delta applied. Result equal to
///   the baseline: they return to it. Equal to an active variant: they join it. Otherwise a new
///   variant starts as a copy of the baseline detector (bar history, ranges and cooldowns
///   included) with the new parameters, so it does not start from nothing.
public struct WyckoffDetectorSet: Sendable {
    /// An account-scoped parameter variant and its own detector.
    public struct Variant: Sendable {
        /// Who asked for it (the experiment id): the signals' `experiment`.
        public var requestedBy: String
        /// The full parameters it runs.
        public var parameters: WyckoffParameters
        /// The accounts it trades for.
        public var accounts: Set<String>
        var detector: WyckoffDetector
    }

    /// Why an update was refused; nothing changed.
    public struct Refusal: Error, CustomStringConvertible, Sendable, Equatable {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// At most this many variants run at once (each costs a detector's work per bar).
    public static let maximumVariants = 4

    /// The detector every account not in a variant trades.
    public private(set) var baseline: WyckoffDetector
    /// The active variants, in the order they started.
    public private(set) var variants: [Variant] = []
    /// Every account; baseline signals name those not in a variant. nil: unknown, and then
    /// account-scoped updates are refused (the baseline could not say whom it is for).
    public let roster: [String]?

    public init(baseline: WyckoffDetector, roster: [String]?) {
        self.baseline = baseline
        self.roster = roster.map { Array(Set($0)).sorted() }
    }

    /// Applies `update`; returns a one-line summary. Throws `WyckoffParameters.InvalidParameter`
    /// for a bad value, `Refusal` for an update that cannot be routed.
    @discardableResult
    public mutating func apply(_ update: ConfigUpdate) throws -> String {
        let target = try baseline.parameters.applying(updates: update.parameters)
        guard let accounts = update.accounts else {
            try baseline.update(parameters: target)
            let ended = variants.count
            variants = []
            return ended == 0 ? "baseline updated" : "baseline updated; \(ended) variant(s) ended"
        }
        guard roster != nil else {
            throw Refusal("account-scoped update refused: the account roster is unknown (set COMPLIANCE_CONFIG)")
        }
        guard target.timeframeSeconds == baseline.parameters.timeframeSeconds else {
            throw Refusal("account-scoped update refused: timeframeSeconds cannot differ between accounts (all detectors share the bars)")
        }
        let moving = Set(accounts)
        guard !moving.isEmpty else { return "no accounts named; nothing changed" }
        var next = variants
        for i in next.indices { next[i].accounts.subtract(moving) }
        let summary: String
        if target == baseline.parameters {
            summary = "\(moving.count) account(s) back on the baseline"
        } else if let i = next.firstIndex(where: { $0.parameters == target }) {
            next[i].accounts.formUnion(moving)
            summary = "\(moving.count) account(s) moved to the variant of \(next[i].requestedBy)"
        } else {
            guard next.filter({ !$0.accounts.isEmpty }).count < Self.maximumVariants else {
                throw Refusal("account-scoped update refused: \(Self.maximumVariants) variants already run")
            }
            var detector = baseline
            try detector.update(parameters: target)
            next.append(Variant(requestedBy: update.requestedBy, parameters: target, accounts: moving, detector: detector))
            summary = "variant of \(update.requestedBy) started for \(moving.count) account(s)"
        }
        variants = next.filter { !$0.accounts.isEmpty }
        return summary
    }

    /// The accounts the baseline trades for: nil (everyone) while no variant runs.
    public var baselineAccounts: [String]? {
        guard !variants.isEmpty, let roster else { return nil }
        let taken = variants.reduce(into: Set<String>()) { $0.formUnion($1.accounts) }
        return roster.filter { !taken.contains($0) }
    }

    /// Feeds `bar` to every detector; the baseline's analysis and the signals to publish, routed.
    public mutating func process(_ bar: Bar) -> (analysis: WyckoffAnalysis, signals: [Signal]) {
        let analysis = baseline.process(bar)
        var signals: [Signal] = []
        if var signal = analysis.signal {
            signal.accounts = baselineAccounts
            if signal.accounts?.isEmpty != true { signals.append(signal) }
        }
        for i in variants.indices {
            guard var signal = variants[i].detector.process(bar).signal else { continue }
            let experiment = variants[i].requestedBy
            signal.id = Self.variantSignalId(signal.id, experiment: experiment)
            signal.accounts = variants[i].accounts.sorted()
            signal.experiment = experiment
            signal.evidence["experiment"] = experiment
            signals.append(signal)
        }
        return (analysis, signals)
    }

    /// Feeds stored history to every detector (no signals).
    public mutating func replay(_ bars: [Bar]) {
        for bar in bars {
            _ = baseline.process(bar)
            for i in variants.indices { _ = variants[i].detector.process(bar) }
        }
    }

    /// A variant's signal id: the baseline's id for the same bar and event, tagged with the
    /// experiment, so the two never collide and a replay repeats it.
    public static func variantSignalId(_ id: String, experiment: String) -> String { "\(id)~\(experiment)" }
}
