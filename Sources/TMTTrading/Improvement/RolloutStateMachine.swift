import TMTBase
import TMTModels

/// The staged rollout of a proposed parameter variant: pending → 10 → 25 → 50 → 100 % of
/// accounts → completed, with rollback at −10 % and an emergency stop at −20 % relative
/// performance, and manual approve/stop. Every transition returns the `ConfigUpdate`s to
/// publish; the machine itself does no I/O and reads time only from the injected clock.
///
/// The caller feeds `observe(_:)` with the current stage's figures (trades since
/// `stageStartedAt`), e.g. after each closed trade or on a timer.
public struct RolloutStateMachine: Sendable {
    /// The experiment id; also `requestedBy` of every update.
    public let experimentId: String
    /// The service the parameters belong to, e.g. `wyckoff-analysis`.
    public let service: String
    /// The baseline's values of the proposed fields when the experiment was proposed: the
    /// evidence the proposal was judged against (approval is refused once the live baseline
    /// differs, see `RolloutBaselineCheck`). Never sent to restore anything: a rollback or stop
    /// sends a revert (`revertParameters`), since the live baseline may have moved since.
    public let baselineParameters: [String: String]
    /// The parameters of a revert: none. An account-scoped `ConfigUpdate` without parameters
    /// means "these accounts back to whatever the baseline is now" (`WyckoffDetectorSet`).
    public static let revertParameters: [String: String] = [:]
    /// The proposed parameters.
    public let variantParameters: [String: String]
    /// Thresholds and pacing.
    public let configuration: RolloutConfiguration
    /// Which accounts get the variant at each stage.
    public let assignment: RolloutAssignment
    private let clock: any TMTClock
    /// The current state.
    public private(set) var state: RolloutState

    /// Creates a rollout over `accounts`; refuses an invalid `configuration` or a `state`
    /// whose stage does not exist.
    /// - Parameter state: where to resume, for an agent restarting from its experiments table
    ///   (the same experiment id and accounts give the same assignment). Default `.pending`.
    public init(experimentId: String, service: String, accounts: [String],
                baselineParameters: [String: String], variantParameters: [String: String],
                configuration: RolloutConfiguration = RolloutConfiguration(), clock: any TMTClock,
                state: RolloutState = .pending) throws {
        try configuration.validate()
        if case .rolling(let stage, _) = state, !configuration.stages.indices.contains(stage) {
            throw RolloutError(code: .invalidConfiguration,
                               detail: "stage \(stage) does not exist in \(configuration.stages)")
        }
        self.state = state
        self.experimentId = experimentId
        self.service = service
        self.baselineParameters = baselineParameters
        self.variantParameters = variantParameters
        self.configuration = configuration
        self.clock = clock
        assignment = RolloutAssignment(experimentId: experimentId, accounts: accounts)
    }

    /// Percentage of accounts on the variant now: the stage's while rolling, 100 once
    /// completed, 0 otherwise.
    public var currentPercent: Int {
        switch state {
        case .rolling(let stage, _): configuration.stages[stage]
        case .completed: 100
        default: 0
        }
    }

    /// Accounts running the variant now, in rollout order.
    public var variantAccounts: [String] { assignment.accounts(atPercent: currentPercent) }

    /// When the current stage started (nil unless rolling): observations count trades since.
    public var stageStartedAt: Date? {
        if case .rolling(_, let since) = state { return since }
        return nil
    }

    /// Starts the rollout at the first stage. Only a pending rollout can be approved.
    public mutating func approve(by approver: String) throws -> RolloutTransition {
        guard state == .pending else {
            throw RolloutError(code: .invalidCommand, detail: "cannot approve experiment \(experimentId) in state \(state.name)")
        }
        return move(to: .rolling(stage: 0, since: clock.now()), reason: "approved by \(approver)", previousPercent: 0)
    }

    /// Stops the rollout by hand and restores the baseline on every variant account.
    /// Refused once the rollout has finished.
    public mutating func stop(by operator: String, reason: String) throws -> RolloutTransition {
        guard !state.isTerminal else {
            throw RolloutError(code: .invalidCommand, detail: "cannot stop experiment \(experimentId) in state \(state.name)")
        }
        let why = "stopped by \(`operator`): \(reason)"
        return move(to: .stopped(at: clock.now(), by: `operator`, reason: reason), reason: why, previousPercent: currentPercent)
    }

    /// Judges the current stage. Returns the transition taken, or nil when the rollout holds
    /// (not rolling, too few trades, undefined relative performance, or period not over).
    /// Guards fire as soon as `guardMinimumSamples` trades exist, without waiting for the
    /// period; the emergency stop is checked before the rollback.
    public mutating func observe(_ observation: RolloutObservation) -> RolloutTransition? {
        guard case .rolling(let stage, let since) = state,
              observation.variantTrades >= configuration.guardMinimumSamples,
              let relative = observation.relativePerformance else { return nil }
        let now = clock.now()
        let percent = configuration.stages[stage]
        let figures = "relative \(configuration.metric.rawValue) \(Self.percentText(relative)) over \(observation.variantTrades) trades at \(percent) %"
        if relative <= configuration.emergencyStopThreshold {
            return move(to: .emergencyStopped(at: now, reason: figures),
                        reason: "emergency stop: \(figures)", previousPercent: percent)
        }
        if relative <= configuration.rollbackThreshold {
            return move(to: .rolledBack(at: now, reason: figures), reason: "rollback: \(figures)", previousPercent: percent)
        }
        guard now.timeIntervalSince(since) >= configuration.effectiveObservationPeriod,
              observation.variantTrades >= configuration.minimumSamples,
              relative >= configuration.advanceThreshold else { return nil }
        if stage + 1 < configuration.stages.count {
            return move(to: .rolling(stage: stage + 1, since: now), reason: "advance: \(figures)", previousPercent: percent)
        }
        return move(to: .completed(at: now), reason: "complete: \(figures)", previousPercent: percent)
    }

    /// Enters `next` and builds the updates: the variant to the accounts a stage adds, the
    /// variant as service default on completion, a revert (no parameters: back to the live
    /// baseline) for every variant account when the rollout ends otherwise.
    private mutating func move(to next: RolloutState, reason: String, previousPercent: Int) -> RolloutTransition {
        let previous = state
        state = next
        let before = assignment.accounts(atPercent: previousPercent)
        var updates: [ConfigUpdate] = []
        switch next {
        case .pending:
            break
        case .rolling(let stage, _):
            let added = Array(assignment.accounts(atPercent: configuration.stages[stage]).dropFirst(before.count))
            if !added.isEmpty {
                updates.append(update(variantParameters, accounts: added,
                                      reason: "\(reason); stage \(configuration.stages[stage]) %"))
            }
        case .completed:
            updates.append(update(variantParameters, accounts: nil, reason: "\(reason); variant becomes the default"))
        case .rolledBack, .emergencyStopped, .stopped:
            if !before.isEmpty {
                updates.append(update(Self.revertParameters, accounts: before, reason: "\(reason); back to the baseline"))
            }
        }
        return RolloutTransition(from: previous, to: next, at: clock.now(), reason: reason, updates: updates)
    }

    /// An update for `accounts` (nil: service-wide, the new default on completion).
    private func update(_ parameters: [String: String], accounts: [String]?, reason: String) -> ConfigUpdate {
        ConfigUpdate(service: service, parameters: parameters, requestedBy: experimentId,
                     reason: "experiment \(experimentId): \(reason)", accounts: accounts)
    }

    private static func percentText(_ fraction: Double) -> String {
        String(cFormat: "%+.2f %%", fraction * 100)
    }
}
