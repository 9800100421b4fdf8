import Dispatch
import Synchronization
import TMTBase
import TMTMetrics

/// A bounded, thread-safe pool of `PostgresConnection`s.
///
/// At most `configuration.maxConnections` connections exist; they are opened lazily, on demand.
/// A caller that finds them all in use waits up to `configuration.acquireTimeout` seconds and
/// then fails with `TMTError(.poolExhausted, "no PostgreSQL connection available within 2.0 s
/// (pool max 4)")`.
///
/// **Blocking.** Acquiring waits on a semaphore and statements wait for the server: use the pool
/// from service threads or dedicated `DispatchQueue`s, never from Swift's cooperative pool.
///
/// **Broken connections are replaced, writes are never retried.** Before a connection is handed
/// out, its status and socket are checked locally (a server restart or `pg_terminate_backend`
/// leaves a goodbye message and EOF there), and one idle longer than
/// `configuration.healthCheckInterval` also gets a `SELECT 1`; a dead one is closed and a new one
/// opened. So after the server restarts, the next call succeeds as soon as it accepts
/// connections again. A connection that breaks during your statement fails that call with
/// `TMTError(.connection, …)` and is discarded when returned; the pool never repeats your work
/// unless you say it is safe (`retryOnConnectionLoss: true`, for reads).
///
/// Metrics (labelled `pool` = `name`): `tmt_db_connections_active`, `tmt_db_connections_max`,
/// `tmt_db_query_duration_seconds{operation}`, `tmt_db_errors_total{code}`.
public final class PostgresPool: Sendable {
    /// Counts of the pool's connections at one instant.
    public struct Statistics: Sendable, Equatable {
        /// Handed out right now.
        public var inUse: Int
        /// Open and waiting in the pool.
        public var idle: Int
        /// The bound (`configuration.maxConnections`).
        public var max: Int

        public init(inUse: Int, idle: Int, max: Int) {
            self.inUse = inUse
            self.idle = idle
            self.max = max
        }
    }

    /// The settings the pool was created with.
    public let configuration: PostgresConfiguration
    /// The `pool` label of the metrics and the name in log lines.
    public let name: String

    private struct IdleConnection {
        var connection: PostgresConnection
        var since: UInt64
    }

    private struct State {
        var idle: [IdleConnection] = []
        var inUse = 0
        var closed = false
    }

    private let permits: DispatchSemaphore
    private let state = Locked(State())
    private let instrumentation: PostgresInstrumentation
    private let logger: Logger?

    /// Creates the pool; no connection is opened until the first call needs one.
    ///
    /// - Parameters:
    ///   - name: the `pool` metric label; default: the database name.
    ///   - metrics: where the pool's metrics are registered; default `MetricsRegistry.shared`.
    ///   - logger: receives replaced-connection events and server warnings.
    /// - Throws: `TMTError(.configuration, …)` when the configuration is invalid.
    public init(configuration: PostgresConfiguration, name: String? = nil, metrics: MetricsRegistry = .shared, logger: Logger? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        self.name = name ?? configuration.database
        self.logger = logger
        permits = DispatchSemaphore(value: configuration.maxConnections)
        instrumentation = PostgresInstrumentation(registry: metrics, pool: self.name)
        instrumentation.max.set(Double(configuration.maxConnections))
        instrumentation.active.set(0)
    }

    deinit {
        let idle = state.withLock { s in
            defer { s.idle.removeAll() }
            return s.idle
        }
        for c in idle { c.connection.close() }
    }

    /// Runs `body` with a connection of its own and returns it to the pool afterwards (also when
    /// `body` throws; a connection left inside a transaction is rolled back first).
    ///
    /// - Parameter retryOnConnectionLoss: when the connection breaks during `body`
    ///   (`TMTError(.connection, …)` and the connection is dead), run `body` once more on a fresh
    ///   connection. Only for work that is safe to repeat, such as reads: a write in flight when
    ///   the connection broke may or may not have been applied. Default `false`.
    public func withConnection<T>(retryOnConnectionLoss: Bool = false, _ body: (PostgresConnection) throws -> T) throws -> T {
        var attempt = 1
        while true {
            let connection = try acquire()
            do {
                let value = try body(connection)
                release(connection)
                return value
            } catch {
                release(connection)
                if retryOnConnectionLoss, attempt == 1, let e = error as? TMTError, e.code == .connection, !connection.isConnected {
                    logger?.warning("PostgreSQL connection lost during a read; retrying once on a new connection", ["pool": name])
                    attempt += 1
                    continue
                }
                throw error
            }
        }
    }

    /// Runs `body` in a transaction on a pooled connection (see
    /// `PostgresConnection.transaction`).
    ///
    /// - Parameter maxAttempts: how many times to run the transaction when it fails with a
    ///   serialization failure or deadlock (SQLSTATE 40001/40P01), which roll it back entirely.
    ///   `body` must then have no effects outside the database. Default 1 (no retry).
    public func transaction<T>(isolation: PostgresIsolationLevel? = nil, readOnly: Bool = false, maxAttempts: Int = 1,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        try withConnection { connection in
            var attempt = 1
            while true {
                do {
                    return try connection.transaction(isolation: isolation, readOnly: readOnly, body)
                } catch let e as TMTError where e.isRetryableTransactionFailure && attempt < maxAttempts && connection.isConnected {
                    attempt += 1
                    // A short, jittered pause lets the competing transaction finish first.
                    usleep(UInt32.random(in: 1_000...(5_000 * UInt32(min(attempt, 20)))))
                }
            }
        }
    }

    /// `PostgresConnection.execute` on a pooled connection. Never retried.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresEncodable] = [], prepared: Bool = false) throws -> Int {
        try withConnection { try $0.execute(sql, parameters, prepared: prepared) }
    }

    /// `PostgresConnection.executeBatch` on a pooled connection (atomic, never retried).
    @discardableResult
    public func executeBatch(_ sql: String, _ parameterSets: [[any PostgresEncodable]]) throws -> Int {
        try withConnection { try $0.executeBatch(sql, parameterSets) }
    }

    /// `PostgresConnection.executeTogether` on a pooled connection (all or nothing, never
    /// retried): one round trip for up to `PostgresConnection.statementsTogether` statements;
    /// more go in groups of that size inside one transaction (a round trip per group), so a
    /// signal sized for many accounts is stored as one unit however many orders it makes.
    @discardableResult
    public func executeTogether(_ statements: [(sql: String, parameters: [any PostgresEncodable])]) throws -> [Int] {
        let group = PostgresConnection.statementsTogether
        guard statements.count > group else {
            return try withConnection { try $0.executeTogether(statements) }
        }
        return try transaction { tx in
            var affected: [Int] = []
            affected.reserveCapacity(statements.count)
            for start in stride(from: 0, to: statements.count, by: group) {
                affected += try tx.executeTogether(statements[start..<min(start + group, statements.count)], total: statements.count)
            }
            return affected
        }
    }

    /// `PostgresConnection.query` on a pooled connection. Pass `retryOnConnectionLoss: true` only
    /// for statements that are safe to run twice (plain reads).
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = [], prepared: Bool = false,
                      retryOnConnectionLoss: Bool = false) throws -> [PostgresRow] {
        try withConnection(retryOnConnectionLoss: retryOnConnectionLoss) { try $0.query(sql, parameters, prepared: prepared) }
    }

    /// `PostgresConnection.queryOne` on a pooled connection (see `query` for the retry flag).
    public func queryOne(_ sql: String, _ parameters: [any PostgresEncodable] = [], prepared: Bool = false,
                         retryOnConnectionLoss: Bool = false) throws -> PostgresRow? {
        try withConnection(retryOnConnectionLoss: retryOnConnectionLoss) { try $0.queryOne(sql, parameters, prepared: prepared) }
    }

    /// The pool's counts right now.
    public var statistics: Statistics {
        state.withLock { Statistics(inUse: $0.inUse, idle: $0.idle.count, max: configuration.maxConnections) }
    }

    /// Closes idle connections and refuses new work (`TMTError(.closed, …)`); connections in use
    /// are closed when they come back. Idempotent.
    public func shutdown() {
        let idle = state.withLock { s in
            s.closed = true
            defer { s.idle.removeAll() }
            return s.idle
        }
        for c in idle { c.connection.close() }
    }

    // MARK: - Acquire and release

    private func closedError() -> TMTError {
        TMTError(.closed, "PostgreSQL pool '\(name)' is shut down")
    }

    private func acquire() throws -> PostgresConnection {
        if state.withLock({ $0.closed }) { throw closedError() }
        if permits.wait(timeout: .now() + configuration.acquireTimeout) == .timedOut {
            let error = TMTError(.poolExhausted, "no PostgreSQL connection available within \(PostgresConfiguration.format(configuration.acquireTimeout)) s (pool max \(configuration.maxConnections))")
            instrumentation.count(error)
            throw error
        }
        let (candidate, closed): (IdleConnection?, Bool) = state.withLock { s in
            if s.closed { return (nil, true) }
            s.inUse += 1
            instrumentation.active.set(Double(s.inUse))
            return (s.idle.popLast(), false)
        }
        if closed {
            permits.signal()
            throw closedError()
        }
        if let candidate, isUsable(candidate) {
            return candidate.connection
        }
        if let candidate {
            candidate.connection.close()
            logger?.notice("replaced a broken PostgreSQL connection", ["pool": name])
        }
        do {
            return try PostgresConnection(configuration: configuration, logger: logger, instrumentation: instrumentation)
        } catch {
            state.withLock { s in
                s.inUse -= 1
                instrumentation.active.set(Double(s.inUse))
            }
            permits.signal()
            throw error
        }
    }

    private func isUsable(_ idle: IdleConnection) -> Bool {
        let connection = idle.connection
        guard connection.pollIdle() else { return false }
        let idleSeconds = Double(Monotonic.nanos() &- idle.since) / 1e9
        if idleSeconds >= configuration.healthCheckInterval {
            do { try connection.ping() } catch { return false }
        }
        return true
    }

    private func release(_ connection: PostgresConnection) {
        if connection.isConnected && connection.transactionState != .idle {
            // The body left a transaction open (or a statement running): never hand that on.
            connection.rollbackAfterFailure()
        }
        let keep = connection.isConnected && connection.transactionState == .idle
        let discard: Bool = state.withLock { s in
            s.inUse -= 1
            instrumentation.active.set(Double(s.inUse))
            guard keep, !s.closed else { return true }
            s.idle.append(IdleConnection(connection: connection, since: Monotonic.nanos()))
            return false
        }
        if discard { connection.close() }
        permits.signal()
    }
}
