import TMTBase
import TMTMetrics

/// The database metrics, with label children resolved once so the hot path is an atomic add.
///
/// - `tmt_db_connections_active{pool}`: connections handed out right now.
/// - `tmt_db_connections_max{pool}`: the pool's bound.
/// - `tmt_db_query_duration_seconds{pool,operation}`: wall time of each statement, successful
///   or not; `operation` is `query`, `execute`, `begin`, `commit`, `rollback`, `ping`,
///   `connect` or `migrate`.
/// - `tmt_db_errors_total{pool,code}`: failures by SQLSTATE (`23505`) or, for client-side
///   failures, by `TMTError` code (`connection`, `pool_exhausted`, `timeout`, …).
final class PostgresInstrumentation: Sendable {
    enum Operation: String, CaseIterable, Sendable {
        case query, execute, begin, commit, rollback, ping, connect, migrate
    }

    let pool: String
    let active: Gauge
    let max: Gauge
    private let durations: [Operation: Histogram]
    private let errors: CounterFamily

    init(registry: MetricsRegistry, pool: String) {
        self.pool = pool
        active = registry.gauge("tmt_db_connections_active", help: "Database connections currently in use.", labels: ["pool"]).labels(pool)
        max = registry.gauge("tmt_db_connections_max", help: "Maximum database connections of the pool.", labels: ["pool"]).labels(pool)
        let family = registry.histogram("tmt_db_query_duration_seconds", help: "Database statement duration in seconds.", labels: ["pool", "operation"])
        var durations: [Operation: Histogram] = [:]
        for op in Operation.allCases { durations[op] = family.labels(pool, op.rawValue) }
        self.durations = durations
        errors = registry.counter("tmt_db_errors_total", help: "Database errors by SQLSTATE or client error code.", labels: ["pool", "code"])
    }

    func observe(_ operation: Operation, since start: UInt64) {
        durations[operation]?.observeSince(start)
    }

    func count(_ error: Error) {
        let code: String
        if let e = error as? TMTError {
            code = e.sqlState ?? e.code.rawValue
        } else {
            code = "other"
        }
        errors.labels(pool, code).inc()
    }
}
