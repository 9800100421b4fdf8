import TMTBase
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
/// - account-scoped without parameters: a revert. Those accounts leave any variant and trade
///   whatever the baseline is now (a rollback or stop must not name baseline values: the
///   baseline may have changed since the experiment was proposed, and old values would start a
///   new variant that nothing ever ends);
/// - account-scoped with parameters: those accounts now run the baseline with the delta
///   applied. Result equal to the baseline: they return to it. Equal to an active variant: they
///   join it. Otherwise a new variant starts as a copy of the baseline detector (bar history,
///   ranges and cooldowns included) with the new parameters, so it does not start from nothing.
///
/// The state is rebuilt by replaying `config.updates` from the beginning at every start (event
/// sourcing), so applying is safe to repeat: an update for another service is ignored, and an
/// update whose id was applied already (a redelivery, or an outbox re-published after later
/// updates) changes nothing.
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
    /// The service whose updates apply here (`ConfigUpdate.service`); others are ignored.
    public let service: String
    /// Ids of the updates applied so far (envelope ids); applying one again changes nothing.
    public private(set) var appliedUpdateIds: Set<String> = []

    /// - Parameter service: the service these detectors belong to. Default `wyckoff-analysis`.
    public init(baseline: WyckoffDetector, roster: [String]?, service: String = "wyckoff-analysis") {
        self.baseline = baseline
        self.roster = roster.map { Array(Set($0)).sorted() }
        self.service = service
    }

    /// Applies `update` unless it is for another service or `id` was applied already; returns a
    /// one-line summary. Throws `WyckoffParameters.InvalidParameter` for a bad value, `Refusal`
    /// for an update that cannot be routed (nothing changes then, and the id is not recorded).
    /// - Parameter id: the update's unique id (its envelope id); nil: no deduplication.
    @discardableResult
    public mutating func apply(_ update: ConfigUpdate, id: String? = nil) throws -> String {
        guard update.service == service else { return "update for \(update.service) ignored" }
        if let id, appliedUpdateIds.contains(id) { return "update \(id) applied already; nothing changed" }
        let summary = try applyOnce(update)
        if let id { appliedUpdateIds.insert(id) }
        return summary
    }

    private mutating func applyOnce(_ update: ConfigUpdate) throws -> String {
        if let accounts = update.accounts, update.parameters.isEmpty {
            return revert(Set(accounts))
        }
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

    /// Drops `accounts` from every variant: they trade the baseline as it is now. Needs no roster
    /// and no validation, so a revert is never refused.
    private mutating func revert(_ accounts: Set<String>) -> String {
        guard !accounts.isEmpty else { return "no accounts named; nothing changed" }
        let moved = variants.reduce(0) { $0 + $1.accounts.intersection(accounts).count }
        for i in variants.indices { variants[i].accounts.subtract(accounts) }
        variants = variants.filter { !$0.accounts.isEmpty }
        return "\(moved) account(s) back on the baseline"
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
