import TMTBase
import TMTCore
import TMTTrading

/// One state change of an experiment, kept in its `results.history`.
struct ExperimentHistoryEntry: Codable, Sendable, Equatable {
    var from: String
    var to: String
    var at: Date
    var reason: String
    /// Percentage of accounts on the variant after the change.
    var percent: Int
    /// The accounts on the variant after the change.
    var variantAccounts: [String]
}

/// The `results` document of an experiment: the shadow evidence and the rollout's history.
struct ExperimentResults: Codable, Sendable, Equatable {
    var proposal: ImprovementProposal?
    var history: [ExperimentHistoryEntry]?
}

/// An `experiments` row.
struct ExperimentRecord: Codable, Sendable {
    var id: String
    var service: String
    /// `pending`, `rolling`, `completed`, `rolled_back`, `emergency_stopped` or `stopped`.
    var status: String
    var rolloutPercent: Int
    var rolloutStage: Int?
    var stageStartedAt: Date?
    var parameters: [String: String]
    var baseline: [String: String]
    var pValue: Double?
    var improvementPercent: Double?
    var results: ExperimentResults
    var createdAt: Date
    var updatedAt: Date
    /// Config updates stored with the last transition and not yet acknowledged by the broker.
    var unpublishedUpdates: Int

    static let columns = """
        id, service, status, rollout_percent, rollout_stage, stage_started_at, parameters, baseline, p_value,
        improvement_percent, results, created_at, updated_at, outbox
        """

    init(row r: PostgresRow) throws {
        id = try r.decode(String.self, column: "id")
        service = try r.decode(String.self, column: "service")
        status = try r.decode(String.self, column: "status")
        rolloutPercent = try r.decode(Int.self, column: "rollout_percent")
        rolloutStage = try r.decode(Int?.self, column: "rollout_stage")
        stageStartedAt = try r.decode(Date?.self, column: "stage_started_at")
        parameters = try r.decodeJSON([String: String].self, column: "parameters")
        baseline = try r.decodeJSON([String: String].self, column: "baseline")
        pValue = try r.decode(Double?.self, column: "p_value")
        improvementPercent = try r.decode(Double?.self, column: "improvement_percent")
        results = try r.decodeJSON(ExperimentResults.self, column: "results")
        createdAt = try r.decode(Date.self, column: "created_at")
        updatedAt = try r.decode(Date.self, column: "updated_at")
        unpublishedUpdates = try r.isNull(column: "outbox") ? 0 : try r.decodeJSON([Envelope<ConfigUpdate>].self, column: "outbox").count
    }
}

/// The `experiments` table: proposals, and every rollout transition stored together with the
/// config updates it must publish (an outbox), so a crash between the write and the broker's
/// acknowledgement re-publishes them at the next start instead of losing them.
struct ExperimentStore: Sendable {
    let pool: PostgresPool

    /// The unique partial index (migration 5) that lets one experiment per service be rolling.
    static let oneRollingIndex = "experiments_one_rolling_per_service"

    /// Stores a proposal as a pending experiment; false when the id exists already.
    func insert(_ proposal: ImprovementProposal) throws -> Bool {
        try pool.execute("""
            INSERT INTO experiments (id, service, parameters, status, rollout_percent, baseline, results, p_value, improvement_percent)
            VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING
            """, [proposal.experimentId, proposal.service, try PostgresJSON(encoding: proposal.parameters),
                  try PostgresJSON(encoding: proposal.baseline), try PostgresJSON(encoding: ExperimentResults(proposal: proposal, history: [])),
                  proposal.pValue, proposal.improvementPercent]) > 0
    }

    /// Whether an experiment with these parameters is pending or rolling for `service`.
    func hasOpenExperiment(service: String, parameters: [String: String]) throws -> Bool {
        try pool.queryOne("""
            SELECT 1 AS one FROM experiments WHERE service = $1 AND status IN ('pending', 'rolling') AND parameters = $2::jsonb LIMIT 1
            """, [service, try PostgresJSON(encoding: parameters)]) != nil
    }

    func all() throws -> [ExperimentRecord] {
        try pool.query("SELECT \(ExperimentRecord.columns) FROM experiments ORDER BY created_at DESC, id").map(ExperimentRecord.init(row:))
    }

    func find(_ id: String) throws -> ExperimentRecord? {
        try pool.queryOne("SELECT \(ExperimentRecord.columns) FROM experiments WHERE id = $1", [id]).map(ExperimentRecord.init(row:))
    }

    func withStatus(_ status: String) throws -> [ExperimentRecord] {
        try pool.query("SELECT \(ExperimentRecord.columns) FROM experiments WHERE status = $1 ORDER BY created_at, id", [status])
            .map(ExperimentRecord.init(row:))
    }

    /// Parameters of completed experiments of `service`, oldest first: the changes that became
    /// the service's defaults.
    func completedParameters(service: String) throws -> [[String: String]] {
        try pool.query("SELECT parameters FROM experiments WHERE service = $1 AND status = 'completed' ORDER BY updated_at, id", [service])
            .map { try $0.decodeJSON([String: String].self, column: "parameters") }
    }

    /// Locks the experiment's row, lets `body` decide a transition from it, and stores the new
    /// state with the updates to publish in the outbox, all in one transaction. Returns nil when
    /// `body` decides nothing; throws `HTTPError` 404 for an unknown id.
    func transition(_ id: String, _ body: (ExperimentRecord) throws -> (RolloutTransition, RolloutStateMachine)?)
        throws -> (record: ExperimentRecord, transition: RolloutTransition, outbox: [Envelope<ConfigUpdate>])? {
        try pool.transaction { conn in
            guard let row = try conn.queryOne("SELECT \(ExperimentRecord.columns) FROM experiments WHERE id = $1 FOR UPDATE", [id]) else {
                throw HTTPError(.notFound, code: "not_found", message: "no experiment \(id)")
            }
            var record = try ExperimentRecord(row: row)
            guard let (t, machine) = try body(record) else { return nil }
            let percent = machine.currentPercent
            // Updates of an earlier transition not acknowledged yet stay first, in order: a new
            // transition must not drop them (a revert after an unsent stage would leave accounts on
            // the variant otherwise).
            let unsent = try row.isNull(column: "outbox") ? [] : try row.decodeJSON([Envelope<ConfigUpdate>].self, column: "outbox")
            let outbox = unsent + t.updates.enumerated().map { k, update in
                Envelope(id: "\(id):\(t.to.name):\(percent):\(k)", type: "config.update", traceId: id, source: "continuous-improvement",
                         payload: update)
            }
            var results = record.results
            results.history = (results.history ?? []) + [ExperimentHistoryEntry(from: t.from.name, to: t.to.name, at: t.at, reason: t.reason,
                                                                                 percent: percent, variantAccounts: machine.variantAccounts)]
            var stage: Int?
            if case .rolling(let s, _) = t.to { stage = s }
            _ = try conn.execute("""
                UPDATE experiments SET status = $2, rollout_percent = $3, rollout_stage = $4, stage_started_at = $5, results = $6,
                    outbox = $7, updated_at = now() WHERE id = $1
                """, [id, t.to.name, percent, stage, machine.stageStartedAt, try PostgresJSON(encoding: results),
                      outbox.isEmpty ? nil : try PostgresJSON(encoding: outbox)])
            record.status = t.to.name
            record.rolloutPercent = percent
            record.rolloutStage = stage
            record.stageStartedAt = machine.stageStartedAt
            record.results = results
            record.unpublishedUpdates = outbox.count
            return (record, t, outbox)
        }
    }

    /// Experiments with config updates not yet acknowledged.
    func pendingOutboxes() throws -> [(id: String, updates: [Envelope<ConfigUpdate>])] {
        try pool.query("SELECT id, outbox FROM experiments WHERE outbox IS NOT NULL ORDER BY updated_at, id").map { r in
            (try r.decode(String.self, column: "id"), try r.decodeJSON([Envelope<ConfigUpdate>].self, column: "outbox"))
        }
    }

    /// Clears the outbox once its updates were acknowledged (only if it is still the same one).
    func clearOutbox(_ id: String, published: [Envelope<ConfigUpdate>]) throws {
        _ = try pool.execute("UPDATE experiments SET outbox = NULL WHERE id = $1 AND outbox = $2::jsonb",
                             [id, try PostgresJSON(encoding: published)])
    }

    /// An `audit_log` row for an API mutation.
    func audit(actor: String, action: String, target: String, result: String, detail: [String: String]) throws {
        _ = try pool.execute("INSERT INTO audit_log (actor, action, target, result, detail) VALUES ($1, $2, $3, $4, $5)",
                             [actor, action, target, result, try PostgresJSON(encoding: detail)])
    }
}
