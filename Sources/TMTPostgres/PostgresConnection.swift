import Synchronization
import TMTBase
import TMTMetrics

/// One PostgreSQL session (one libpq `PGconn`).
///
/// **Blocking.** Every method waits for the server; call them from a service thread or a
/// dedicated `DispatchQueue`, never from Swift's cooperative pool (an `async` function), where a
/// blocked thread stalls unrelated tasks.
///
/// **Parameterised only.** Values are passed as `PostgresEncodable` parameters (`$1`, `$2`, …)
/// and travel separately from the SQL text, so a value can never change the statement. There is
/// no API that splices values into SQL, and a statement string must hold exactly one statement.
///
/// **One thread at a time.** Calls are serialised by an internal lock, so sharing a connection
/// cannot corrupt it, but interleaving statements from two threads inside one transaction would
/// mix their work: give each thread its own connection (`PostgresPool` does).
///
/// **No reconnect of its own.** A connection whose server went away stays broken
/// (`isConnected` turns false and calls fail with `TMTError(.connection, …)`); `PostgresPool`
/// notices that and opens a replacement, so services should use a pool.
///
/// ```swift
/// let conn = try PostgresConnection(configuration: config)
/// try conn.execute("INSERT INTO accounts (id, balance) VALUES ($1, $2)", [id, Decimal(string: "100.00")!])
/// let row = try conn.queryOne("SELECT balance FROM accounts WHERE id = $1", [id])
/// let balance = try row?.decode(Decimal.self, column: "balance")
/// ```
public final class PostgresConnection: Sendable {
    /// libpq's view of the session's transaction state.
    public enum TransactionState: Sendable, Equatable {
        /// Not in a transaction.
        case idle
        /// A statement is running.
        case active
        /// Inside a healthy transaction block.
        case inTransaction
        /// Inside a transaction block in which a statement failed; only ROLLBACK works.
        case failedTransaction
        /// Closed or broken.
        case unknown
    }

    /// The settings this connection was opened with.
    public let configuration: PostgresConfiguration
    private let client: Locked<LibPQClient>
    let instrumentation: PostgresInstrumentation?

    /// Connects, blocking for at most `configuration.connectTimeout` seconds (per address).
    ///
    /// - Parameters:
    ///   - logger: receives server notices and warnings (otherwise dropped).
    ///   - metrics: when given, statement durations and errors are recorded as
    ///     `tmt_db_query_duration_seconds` / `tmt_db_errors_total` with `pool` = the database name.
    /// - Throws: `TMTError(.connection, …)` naming host, port, database and user (never the
    ///   password) with libpq's reason.
    public convenience init(configuration: PostgresConfiguration, logger: Logger? = nil, metrics: MetricsRegistry? = nil) throws {
        try self.init(configuration: configuration, logger: logger,
                      instrumentation: metrics.map { PostgresInstrumentation(registry: $0, pool: configuration.database) })
    }

    init(configuration: PostgresConfiguration, logger: Logger?, instrumentation: PostgresInstrumentation?) throws {
        try configuration.validate()
        self.configuration = configuration
        self.instrumentation = instrumentation
        let start = Monotonic.nanos()
        let libpq: LibPQClient
        do {
            libpq = try LibPQClient(configuration: configuration, logger: logger)
        } catch {
            instrumentation?.count(error)
            throw error
        }
        instrumentation?.observe(.connect, since: start)
        client = Locked(libpq)
    }

    // MARK: - Statements

    /// Runs a statement that returns no rows (INSERT/UPDATE/DELETE/DDL) and returns the number of
    /// rows it affected (0 for commands without a count).
    ///
    /// - Parameters:
    ///   - sql: one statement, with `$1`, `$2`, … for the parameters.
    ///   - parameters: the values, in order; `nil` optionals are NULL. An array value is one
    ///     parameter only when wrapped: `query("… WHERE id = ANY($1)", [ids])`; passing `ids`
    ///     itself spreads it over `$1, $2, …`.
    ///   - prepared: prepare the statement once per connection (`PQprepare`, cached by SQL text and
    ///     parameter types) and execute it by name afterwards; use it on hot paths.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresEncodable] = [], prepared: Bool = false) throws -> Int {
        try run(sql, parameters.map(\.postgresValue), prepared: prepared, operation: .execute).affectedRows
    }

    /// Runs a statement and returns all its rows.
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = [], prepared: Bool = false) throws -> [PostgresRow] {
        try run(sql, parameters.map(\.postgresValue), prepared: prepared, operation: .query).rows
    }

    /// Runs a statement and returns its first row, or `nil` when it returned none. Add `LIMIT 1`
    /// when more rows could match: the others are transferred and dropped.
    public func queryOne(_ sql: String, _ parameters: [any PostgresEncodable] = [], prepared: Bool = false) throws -> PostgresRow? {
        try run(sql, parameters.map(\.postgresValue), prepared: prepared, operation: .query).rows.first
    }

    func run(_ sql: String, _ values: [PostgresValue], prepared: Bool, operation: PostgresInstrumentation.Operation) throws -> PostgresQueryResult {
        try instrumented(operation) { try $0.execute(sql, values, prepared: prepared, operation: operation.rawValue) }
    }

    /// Executes one statement once per parameter set, pipelined (libpq pipeline mode: the sets
    /// go out in chunks without waiting for each result), and returns the total rows affected.
    /// For bulk inserts of ticks, bars or audit rows: hundreds of rows cost a few round trips.
    ///
    /// All or nothing: outside a transaction the batch runs in one of its own; inside your
    /// `transaction { }` it is part of it. The first failing set stops the batch and its error
    /// names the set's position (`parameter set 17`), never its values.
    ///
    /// - Parameters:
    ///   - sql: one statement with `$1`, `$2`, …; it is prepared once per connection.
    ///   - parameterSets: one array of values per execution; all of the same length.
    @discardableResult
    public func executeBatch(_ sql: String, _ parameterSets: [[any PostgresEncodable]]) throws -> Int {
        guard !parameterSets.isEmpty else { return 0 }
        let values = parameterSets.map { $0.map(\.postgresValue) }
        guard transactionState == .idle else { return try runBatch(sql, values) }
        return try transaction { try $0.runBatch(sql, values) }
    }

    private func runBatch(_ sql: String, _ values: [[PostgresValue]]) throws -> Int {
        try instrumented(.execute) { try $0.executeBatch(sql, values, operation: "executeBatch") }
    }

    /// Runs `body` on the client, timing it as `operation` and counting its error.
    private func instrumented<T>(_ operation: PostgresInstrumentation.Operation, _ body: (LibPQClient) throws -> T) throws -> T {
        let start = Monotonic.nanos()
        defer { instrumentation?.observe(operation, since: start) }
        do {
            return try client.withLock { try body($0) }
        } catch {
            instrumentation?.count(error)
            throw error
        }
    }

    /// Executes several statements (each with its own values) in one round trip, all or nothing:
    /// libpq's pipeline mode sends them all before one sync point, and outside a transaction the
    /// server runs everything up to a sync as one implicit transaction; inside your
    /// `transaction { }` they are part of it. A failure stops the rest and names the statement's
    /// position (`statement 2 of 3`). For a few statements of one event (at most
    /// `statementsTogether`; `PostgresPool.executeTogether` takes more); bulk rows go through
    /// `executeBatch`. Returns the rows each statement affected.
    @discardableResult
    public func executeTogether(_ statements: [(sql: String, parameters: [any PostgresEncodable])]) throws -> [Int] {
        try executeTogether(statements[...], total: statements.count)
    }

    /// How many statements `executeTogether` sends before one sync point.
    public static let statementsTogether = LibPQClient.pipelineChunk

    /// `statements`, a part of a list of `total`, named by their positions in the whole list.
    func executeTogether(_ statements: ArraySlice<(sql: String, parameters: [any PostgresEncodable])>, total: Int) throws -> [Int] {
        let values = statements.map { (sql: $0.sql, parameters: $0.parameters.map(\.postgresValue)) }
        return try instrumented(.execute) {
            try $0.executePipeline(values, operation: "executeTogether", first: statements.startIndex + 1, total: total)
        }
    }

    /// Runs a multi-statement script with `PQexec`. Only for SQL without values (migrations),
    /// which is why it is not public.
    func executeScript(_ sql: String, operation: PostgresInstrumentation.Operation) throws {
        _ = try instrumented(operation) { try $0.executeScript(sql, operation: operation.rawValue) }
    }

    // MARK: - Transactions

    /// Runs `body` inside `BEGIN … COMMIT`.
    ///
    /// Any error thrown by `body` rolls the transaction back and is rethrown. A failed COMMIT is
    /// rethrown too, and so is a COMMIT that the server turned into a rollback because a
    /// statement inside had failed (an error `body` caught and swallowed): the caller always
    /// learns that nothing was saved. A transaction that fails with SQLSTATE 40001/40P01
    /// (`error.isRetryableTransactionFailure`) can be run again from the start.
    ///
    /// - Parameters:
    ///   - isolation: `nil` (default) uses the server's default, normally READ COMMITTED.
    ///   - readOnly: `BEGIN … READ ONLY`; writes then fail with SQLSTATE 25006.
    /// - Throws: `TMTError(.invalidArgument, …)` when already in a transaction (no nesting).
    public func transaction<T>(isolation: PostgresIsolationLevel? = nil, readOnly: Bool = false,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        guard transactionState == .idle else {
            throw TMTError(.invalidArgument, "transaction() on a connection that is already in a transaction (state \(transactionState)); nested transactions are not supported")
        }
        var begin = "BEGIN"
        if let isolation { begin += " ISOLATION LEVEL \(isolation.rawValue)" }
        if readOnly { begin += " READ ONLY" }
        _ = try run(begin, [], prepared: false, operation: .begin)

        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackAfterFailure()
            throw error
        }
        do {
            let commit = try run("COMMIT", [], prepared: false, operation: .commit)
            if commit.commandTag == "ROLLBACK" {
                let error = TMTError(.query, "transaction rolled back at COMMIT because a statement inside it failed (the error was caught inside the transaction body); nothing was saved")
                instrumentation?.count(error)
                throw error
            }
        } catch {
            rollbackAfterFailure()
            throw error
        }
        return value
    }

    /// Ends a failed transaction. If even ROLLBACK fails, the session is in an unknown state and
    /// is closed, so a pool discards it instead of handing out a half-open transaction.
    func rollbackAfterFailure() {
        switch transactionState {
        case .inTransaction, .failedTransaction:
            do { _ = try run("ROLLBACK", [], prepared: false, operation: .rollback) } catch { close() }
        case .active:
            close()
        case .idle, .unknown:
            break
        }
    }

    // MARK: - State

    /// Whether the connection is open and libpq considers it healthy. This is a local check: a
    /// server that went away is noticed on the next statement (or by `PostgresPool`'s hand-out
    /// check).
    public var isConnected: Bool { client.withLock { $0.isConnected } }

    /// The session's transaction state.
    public var transactionState: TransactionState { client.withLock { $0.transactionState } }

    /// The server process id serving this session.
    public var backendPID: Int { Int(client.withLock { $0.backendPID }) }

    /// The server version as an integer (150018 for 15.18).
    public var serverVersion: Int { client.withLock { $0.serverVersion } }

    /// A round trip (`SELECT 1`); throws when the connection is broken.
    public func ping() throws {
        _ = try run("SELECT 1", [], prepared: false, operation: .ping)
    }

    /// Checks the socket without a round trip; false if the server has closed the session.
    func pollIdle() -> Bool { client.withLock { $0.pollIdle() } }

    /// Closes the session. Further calls fail with `TMTError(.connection, …)`. Idempotent.
    public func close() {
        client.withLock { $0.close() }
    }
}
