import CLibPQ
import TMTBase

/// The result of one statement, copied out of libpq.
struct PostgresQueryResult: Sendable {
    var rows: [PostgresRow]
    /// Rows inserted/updated/deleted/selected, from the command tag; 0 when the tag has no count.
    var affectedRows: Int
    /// E.g. `INSERT 0 1`, `COMMIT`, `ROLLBACK`.
    var commandTag: String
}

/// Everything that touches libpq: one `PGconn`, its prepared-statement cache, and the
/// conversion of results and errors. Not thread-safe; `PostgresConnection` serialises access.
final class LibPQClient {
    private var handle: OpaquePointer?
    private let password: String?
    private var statements: [StatementKey: String] = [:]
    private var statementCounter = 0
    private let notices: NoticeLog?

    /// Statements prepared per connection at most; past it, new SQL runs unprepared rather than
    /// growing server memory without bound.
    static let statementCacheLimit = 512

    private struct StatementKey: Hashable {
        var sql: String
        var types: [UInt32]
    }

    /// Connects (blocking, bounded by the configuration's connect timeout).
    init(configuration: PostgresConfiguration, logger: Logger?) throws {
        password = configuration.password
        notices = logger.map(NoticeLog.init)
        let parameters = configuration.libpqParameters
        var keys: [UnsafeMutablePointer<CChar>?] = parameters.map { strdup($0.0) }
        var values: [UnsafeMutablePointer<CChar>?] = parameters.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        keys.append(nil)
        values.append(nil)
        let conn: OpaquePointer? = keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { k in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 0)
            }
        }
        guard let conn else {
            throw TMTError(.connection, "cannot connect to PostgreSQL at \(configuration.host):\(configuration.port): out of memory")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let raw = PostgresServerError.scrub(PostgresServerError.oneLine(String(cString: PQerrorMessage(conn))), password: configuration.password)
            PQfinish(conn)
            throw TMTError(.connection,
                           "cannot connect to PostgreSQL at \(configuration.host):\(configuration.port) database '\(configuration.database)' as '\(configuration.user)': \(raw)",
                           detail: raw)
        }
        handle = conn
        if let notices {
            PQsetNoticeReceiver(conn, { arg, result in
                guard let arg, let result else { return }
                Unmanaged<NoticeLog>.fromOpaque(arg).takeUnretainedValue().receive(result)
            }, Unmanaged.passUnretained(notices).toOpaque())
        }
    }

    deinit { close() }

    func close() {
        if let h = handle {
            PQfinish(h)
            handle = nil
        }
        statements.removeAll()
    }

    /// Whether the connection is open and libpq thinks it is healthy (no network round trip).
    var isConnected: Bool {
        guard let h = handle else { return false }
        return PQstatus(h) == CONNECTION_OK
    }

    /// libpq's view of the transaction state; `.unknown` when closed.
    var transactionState: PostgresConnection.TransactionState {
        guard let h = handle else { return .unknown }
        switch PQtransactionStatus(h) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failedTransaction
        case PQTRANS_ACTIVE: return .active
        default: return .unknown
        }
    }

    /// The server process id of this session (for `pg_stat_activity`, `pg_terminate_backend`).
    var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// E.g. 150018 for 15.18.
    var serverVersion: Int { handle.map { Int(PQserverVersion($0)) } ?? 0 }

    /// Looks at the socket without a round trip: an idle connection that has something to read
    /// has either a notification or the server's goodbye (a restart or `pg_terminate_backend`
    /// sends FATAL 57P01 and closes). Consuming it tells the two apart. Returns false when the
    /// connection is dead.
    func pollIdle() -> Bool {
        guard let h = handle, PQstatus(h) == CONNECTION_OK else { return false }
        let fd = PQsocket(h)
        guard fd >= 0 else { return false }
        for _ in 0..<8 {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 0)
            if ready == 0 { return true }
            if ready < 0 { return errno == EINTR }
            if PQconsumeInput(h) == 0 { return false }
            while let n = PQnotifies(h) { PQfreemem(n) }
            if PQstatus(h) != CONNECTION_OK { return false }
        }
        return PQstatus(h) == CONNECTION_OK
    }

    /// Runs one statement with parameters (`PQexecParams`, or the cached `PQprepare`d statement
    /// when `prepared`). Parameters travel separately from the SQL, in text format.
    func execute(_ sql: String, _ parameters: [PostgresValue], prepared: Bool, operation: String) throws -> PostgresQueryResult {
        guard let h = handle, PQstatus(h) == CONNECTION_OK else {
            throw TMTError(.connection, "\(operation) on a closed PostgreSQL connection")
        }
        guard parameters.count <= 65535 else {
            throw TMTError(.invalidArgument, "\(operation): \(parameters.count) parameters; PostgreSQL allows at most 65535")
        }
        let types = parameters.map { $0.type.oid }
        return try Self.withParameters(parameters, operation: operation) { values in
            guard prepared else {
                let r = PQexecParams(h, sql, Int32(parameters.count), types, values, nil, nil, 0)
                return try consume(r, operation: operation)
            }
            let key = StatementKey(sql: sql, types: types)
            var name = statements[key]
            if name == nil {
                guard statements.count < Self.statementCacheLimit else {
                    let r = PQexecParams(h, sql, Int32(parameters.count), types, values, nil, nil, 0)
                    return try consume(r, operation: operation)
                }
                name = try prepare(sql, types: types, key: key, operation: operation)
            }
            do {
                let r = PQexecPrepared(h, name, Int32(parameters.count), values, nil, nil, 0)
                return try consume(r, operation: operation)
            } catch let e as TMTError where e.sqlState == "0A000" && transactionState == .idle && isConnected {
                // "cached plan must not change result type": the table changed under the
                // statement. Planning failed before anything ran, so preparing again is safe.
                statements[key] = nil
                let fresh = try prepare(sql, types: types, key: key, operation: operation)
                let r = PQexecPrepared(h, fresh, Int32(parameters.count), values, nil, nil, 0)
                return try consume(r, operation: operation)
            }
        }
    }

    private func prepare(_ sql: String, types: [UInt32], key: StatementKey, operation: String) throws -> String {
        guard let h = handle else { throw TMTError(.connection, "\(operation) on a closed PostgreSQL connection") }
        statementCounter += 1
        let name = "tmt_\(statementCounter)"
        _ = try consume(PQprepare(h, name, sql, Int32(types.count), types), operation: "prepare")
        statements[key] = name
        return name
    }

    /// Runs a script of one or more statements without parameters (`PQexec`). Only for SQL that
    /// contains no values: migrations and fixed commands (`BEGIN`, `COMMIT`).
    func executeScript(_ sql: String, operation: String) throws -> PostgresQueryResult {
        guard let h = handle, PQstatus(h) == CONNECTION_OK else {
            throw TMTError(.connection, "\(operation) on a closed PostgreSQL connection")
        }
        return try consume(PQexec(h, sql), operation: operation)
    }

    /// Copies a result out of libpq and frees it, or turns it into an error.
    private func consume(_ result: OpaquePointer?, operation: String) throws -> PostgresQueryResult {
        guard let result else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "no connection"
            let lost = !isConnected
            throw PostgresServerError(primary: message).error(operation: operation, connectionLost: lost, password: password)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            break
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // The protocol is now mid-COPY; the simplest safe recovery is a new connection.
            close()
            throw TMTError(.invalidArgument, "\(operation): COPY is not supported through this API; the connection was closed")
        default:
            throw serverError(result, operation: operation)
        }

        let tag = String(cString: PQcmdStatus(result))
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        let rowCount = Int(PQntuples(result))
        let fieldCount = Int(PQnfields(result))
        guard fieldCount > 0 else { return PostgresQueryResult(rows: [], affectedRows: affected, commandTag: tag) }

        var names: [String] = []
        var types: [PostgresDataType] = []
        names.reserveCapacity(fieldCount)
        types.reserveCapacity(fieldCount)
        for f in 0..<Int32(fieldCount) {
            names.append(String(cString: PQfname(result, f)))
            types.append(PostgresDataType(oid: PQftype(result, f)))
        }
        let columns = PostgresColumns(names: names, types: types)
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(fieldCount)
            for f in 0..<Int32(fieldCount) {
                if PQgetisnull(result, r, f) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, r, f))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, r, f), count: length)
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return PostgresQueryResult(rows: rows, affectedRows: affected, commandTag: tag)
    }

    private func serverError(_ result: OpaquePointer, operation: String) -> TMTError {
        func field(_ code: Character) -> String? {
            guard let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        let error = PostgresServerError(
            sqlState: field("C"), primary: field("M") ?? String(cString: PQresultErrorMessage(result)),
            hint: field("H"), schema: field("s"), table: field("t"), column: field("c"), constraint: field("n"))
        return error.error(operation: operation, connectionLost: !isConnected, password: password)
    }

    /// Statements sent per pipeline sync: small enough that neither side's socket buffer fills
    /// while the other is still writing (a blocking-mode pipeline could otherwise deadlock).
    static let pipelineChunk = 256

    /// Executes one prepared statement once per parameter set in libpq's pipeline mode: all sets
    /// of a chunk go out before any result is read, so N executions cost about one round trip
    /// per chunk instead of N. Stops at the first failing set and throws its error. Atomicity is
    /// the caller's business (`PostgresConnection.executeBatch` wraps it in a transaction).
    func executeBatch(_ sql: String, _ sets: [[PostgresValue]], operation: String) throws -> Int {
        guard let h = handle, PQstatus(h) == CONNECTION_OK else {
            throw TMTError(.connection, "\(operation) on a closed PostgreSQL connection")
        }
        guard let first = sets.first else { return 0 }
        let count = first.count
        guard count <= 65535 else {
            throw TMTError(.invalidArgument, "\(operation): \(count) parameters; PostgreSQL allows at most 65535")
        }
        if let bad = sets.firstIndex(where: { $0.count != count }) {
            throw TMTError(.invalidArgument, "\(operation): parameter set \(bad + 1) has \(sets[bad].count) values, the first has \(count)")
        }
        // A NULL is often untyped; take each position's type from the first set that says.
        var types = first.map { $0.type.oid }
        for set in sets.dropFirst() {
            for (i, v) in set.enumerated() where types[i] == 0 && v.type.oid != 0 { types[i] = v.type.oid }
        }
        let key = StatementKey(sql: sql, types: types)
        let name: String
        if let cached = statements[key] {
            name = cached
        } else if statements.count < Self.statementCacheLimit {
            name = try prepare(sql, types: types, key: key, operation: operation)
        } else {
            name = ""
            _ = try consume(PQprepare(h, name, sql, Int32(types.count), types), operation: "prepare")
        }

        return try inPipeline(h, operation: operation) { lost in
            var affected = 0
            for chunkStart in stride(from: 0, to: sets.count, by: Self.pipelineChunk) {
                let chunk = sets[chunkStart..<min(chunkStart + Self.pipelineChunk, sets.count)]
                var sent = 0
                for params in chunk {
                    let ok = try Self.withParameters(params, operation: operation) { values in
                        PQsendQueryPrepared(h, name, Int32(count), values, nil, nil, 0) == 1
                    }
                    guard ok else { break }
                    sent += 1
                }
                guard PQpipelineSync(h) == 1 else { throw lost() }
                let counts = try readPipeline(h, results: sent, lost: lost) { k in "\(operation) (parameter set \(chunkStart + k + 1))" }
                affected += counts.reduce(0, +)
                if sent < chunk.count { throw lost() }
            }
            return affected
        }
    }

    /// Executes different prepared statements in libpq's pipeline mode, all before one sync
    /// point: one round trip for the lot (after each statement's first preparation on this
    /// connection). Outside `BEGIN` the server runs everything up to a sync as one implicit
    /// transaction, so the statements are all or nothing; the first failure stops the rest and
    /// is thrown naming its position (`first`: the first statement's position in a longer list of
    /// `total`, when the caller sends one in parts). Returns the rows each statement affected.
    func executePipeline(_ statements: [(sql: String, parameters: [PostgresValue])], operation: String,
                         first: Int = 1, total: Int? = nil) throws -> [Int] {
        guard let h = handle, PQstatus(h) == CONNECTION_OK else {
            throw TMTError(.connection, "\(operation) on a closed PostgreSQL connection")
        }
        guard !statements.isEmpty else { return [] }
        guard statements.count <= Self.pipelineChunk else {
            throw TMTError(.invalidArgument, "\(operation): \(statements.count) statements; at most \(Self.pipelineChunk) go before one sync (use executeBatch for bulk rows)")
        }
        // Everything that can be refused is refused before anything is sent: a refusal halfway
        // would leave a half-sent pipeline (and close the connection, and a caller's transaction).
        var names: [String?] = []
        names.reserveCapacity(statements.count)
        for (i, (sql, parameters)) in statements.enumerated() {
            guard parameters.count <= 65535 else {
                throw TMTError(.invalidArgument, "\(operation): \(parameters.count) parameters; PostgreSQL allows at most 65535")
            }
            for (k, p) in parameters.enumerated() where p.text?.utf8.contains(0) == true {
                throw TMTError(.encoding, "\(operation) (statement \(first + i)): parameter $\(k + 1) (\(p.type)) contains a NUL character, which PostgreSQL text cannot store")
            }
            let types = parameters.map { $0.type.oid }
            let key = StatementKey(sql: sql, types: types)
            if let cached = self.statements[key] {
                names.append(cached)
            } else if self.statements.count < Self.statementCacheLimit {
                names.append(try prepare(sql, types: types, key: key, operation: operation))
            } else {
                names.append(nil) // the cache is full: parsed with its own execution (PQsendQueryParams)
            }
        }

        return try inPipeline(h, operation: operation) { lost in
            for (i, statement) in statements.enumerated() {
                let ok = try Self.withParameters(statement.parameters, operation: operation) { values in
                    let count = Int32(statement.parameters.count)
                    if let name = names[i] { return PQsendQueryPrepared(h, name, count, values, nil, nil, 0) == 1 }
                    let types = statement.parameters.map { $0.type.oid }
                    return PQsendQueryParams(h, statement.sql, count, types, values, nil, nil, 0) == 1
                }
                // No sync after a failed send: outside BEGIN a sync would commit the statements
                // already sent. Closing instead makes the server roll the unfinished work back.
                guard ok else {
                    let error = lost()
                    close()
                    throw error
                }
            }
            guard PQpipelineSync(h) == 1 else { throw lost() }
            return try readPipeline(h, results: statements.count, lost: lost) { k in "\(operation) (statement \(first + k) of \(total ?? statements.count))" }
        }
    }

    /// Runs `body` in libpq's pipeline mode, with a function that makes the error for a broken
    /// exchange. Leaving the mode fails only with results still pending, i.e. after a broken
    /// exchange: the session's state is then unknown, so the connection is closed.
    private func inPipeline<T>(_ h: OpaquePointer, operation: String, _ body: (_ lost: () -> TMTError) throws -> T) throws -> T {
        guard PQenterPipelineMode(h) == 1 else {
            throw TMTError(.query, "\(operation): libpq refused to enter pipeline mode")
        }
        defer {
            if handle != nil, PQexitPipelineMode(h) != 1 { close() }
        }
        return try body {
            PostgresServerError(primary: String(cString: PQerrorMessage(h)))
                .error(operation: operation, connectionLost: true, password: password)
        }
    }

    /// Reads `results` statements' results and the sync point after them; returns the rows each
    /// affected (0 for a failed or skipped one) and throws the first server error, named by
    /// `name(position)`, once the pipeline is drained (so the connection stays usable).
    private func readPipeline(_ h: OpaquePointer, results: Int, lost: () -> TMTError, name: (Int) -> String) throws -> [Int] {
        var affected: [Int] = []
        var failure: TMTError?
        for k in 0..<results {
            guard let result = PQgetResult(h) else { throw lost() }
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
                affected.append(Int(String(cString: PQcmdTuples(result))) ?? 0)
            } else {
                affected.append(0)
                if status != PGRES_PIPELINE_ABORTED, failure == nil { failure = serverError(result, operation: name(k)) }
            }
            PQclear(result)
            // Each statement's results end with a NULL.
            var guardCount = 0
            while guardCount < 4, let extra = PQgetResult(h) { PQclear(extra); guardCount += 1 }
        }
        guard let sync = PQgetResult(h) else { throw failure ?? lost() }
        let syncStatus = PQresultStatus(sync)
        PQclear(sync)
        guard syncStatus == PGRES_PIPELINE_SYNC else { throw failure ?? lost() }
        if let failure { throw failure }
        return affected
    }

    /// Lays the parameters out as NUL-terminated C strings in one allocation. A NUL inside a
    /// value would silently truncate it, so it is refused (naming the parameter, not its value).
    private static func withParameters<R>(
        _ parameters: [PostgresValue], operation: String,
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws -> R
    ) throws -> R {
        var total = 0
        for p in parameters { if let t = p.text { total += t.utf8.count + 1 } }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
        defer { buffer.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(parameters.count)
        var offset = 0
        for (i, p) in parameters.enumerated() {
            guard let text = p.text else {
                pointers.append(nil)
                continue
            }
            let start = buffer + offset
            var sawNUL = false
            for byte in text.utf8 {
                if byte == 0 { sawNUL = true }
                buffer[offset] = CChar(bitPattern: byte)
                offset += 1
            }
            buffer[offset] = 0
            offset += 1
            if sawNUL {
                throw TMTError(.encoding, "\(operation): parameter $\(i + 1) (\(p.type)) contains a NUL character, which PostgreSQL text cannot store")
            }
            pointers.append(UnsafePointer(start))
        }
        return try pointers.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}

/// Routes server notices and warnings (e.g. "relation already exists, skipping") to a Logger
/// instead of libpq's default, which prints them raw on stderr.
final class NoticeLog {
    let logger: Logger
    init(_ logger: Logger) { self.logger = logger }

    func receive(_ result: OpaquePointer) {
        func field(_ code: Character) -> String {
            guard let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return "" }
            return String(cString: p)
        }
        let severity = field("V")
        let level: LogLevel = severity == "WARNING" ? .warning : .debug
        logger.log(level, "PostgreSQL \(severity.lowercased()): \(PostgresServerError.oneLine(field("M")))", ["sqlstate": field("C")])
    }
}
