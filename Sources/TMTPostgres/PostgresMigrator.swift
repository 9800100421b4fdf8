import TMTBase

/// Applies versioned SQL migrations exactly once per database, safely from many processes.
///
/// How a run works, all on one session:
/// 1. Take a session-level `pg_advisory_lock` with a key fixed per migration table (advisory
///    locks are per database, so each database has its own). A second process starting at the
///    same moment waits here (up to `lockTimeout`), then finds everything applied.
/// 2. Create the `schema_migrations` table if missing: `version` (primary key), `name`,
///    `checksum` (SHA-256 of the SQL), `applied_at`, `execution_ms`.
/// 3. Verify every already-applied migration's checksum; an edited one stops the run with an
///    error naming it, before anything is applied.
/// 4. Apply the pending ones in version order, each in its own transaction together with its
///    `schema_migrations` row, so a failure leaves neither half behind.
/// 5. Release the lock (also on failure; a lost session releases it by itself).
///
/// Migration bodies run with `PQexec`, which accepts several statements separated by `;`; they
/// are trusted files without values from outside. By default no `statement_timeout` applies
/// while migrating (`statementTimeout`), since schema changes may legitimately take long.
///
/// Blocking, like the rest of this module: run it at start-up before serving, or from
/// `tmt-migrate` (`runFromCommandLine`).
public struct PostgresMigrator: Sendable {
    /// The migrations, sorted by version.
    public let migrations: [PostgresMigration]
    /// The bookkeeping table, optionally schema-qualified. Default `schema_migrations`.
    public let tableName: String
    /// The advisory lock key. Default: derived from `tableName`, so every process using the same
    /// table (in the same database) contends for the same lock.
    public let lockKey: Int64
    /// Seconds to wait for another process's migration run to finish. Default 120.
    public var lockTimeout: Double
    /// `statement_timeout` in seconds for migration statements; `nil` (default) means no limit.
    public var statementTimeout: Double?
    /// Receives one line per applied migration.
    public var logger: Logger?

    /// A migrator for `migrations` (any order; versions must be unique and positive).
    public init(migrations: [PostgresMigration], tableName: String = "schema_migrations", lockKey: Int64? = nil,
                lockTimeout: Double = 120, statementTimeout: Double? = nil, logger: Logger? = nil) throws {
        guard Self.isValidTableName(tableName) else {
            throw TMTError(.configuration, "migration table name '\(tableName)' must be a plain identifier such as schema_migrations or app.schema_migrations")
        }
        var seen: [Int: PostgresMigration] = [:]
        for m in migrations {
            guard m.version > 0 else { throw TMTError(.configuration, "migration \(m.identifier): version must be positive") }
            guard !m.name.isEmpty, !m.name.contains(where: \.isNewline) else {
                throw TMTError(.configuration, "migration version \(m.version): name must be non-empty and on one line")
            }
            if let other = seen[m.version] {
                throw TMTError(.configuration, "migrations \(other.identifier) and \(m.identifier) share version \(m.version)")
            }
            seen[m.version] = m
        }
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.tableName = tableName
        self.lockKey = lockKey ?? Self.defaultLockKey(tableName: tableName)
        self.lockTimeout = lockTimeout
        self.statementTimeout = statementTimeout
        self.logger = logger
    }

    /// A migrator for the `.sql` files of `directory` (see `loadMigrations(directory:)`).
    public init(directory: String, tableName: String = "schema_migrations", lockTimeout: Double = 120, logger: Logger? = nil) throws {
        try self.init(migrations: Self.loadMigrations(directory: directory), tableName: tableName, lockTimeout: lockTimeout, logger: logger)
    }

    /// Reads `NNNN_name.sql` files (any number of digits, e.g. `0001_create_accounts.sql` is
    /// version 1, name `create_accounts`), sorted by version. Other files are ignored, but a
    /// `.sql` file that does not follow the pattern is an error (it would otherwise be silently
    /// skipped). A first line `-- tmt:no-transaction` marks a non-transactional migration.
    public static func loadMigrations(directory: String) throws -> [PostgresMigration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw TMTError(.configuration, "cannot read the migrations directory \(directory)")
        }
        var migrations: [PostgresMigration] = []
        for file in names.sorted() where file.hasSuffix(".sql") && !file.hasPrefix(".") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"),
                  let version = Int(stem[..<underscore]), version > 0,
                  stem[..<underscore].allSatisfy({ $0.isASCII && $0.isNumber }),
                  stem.index(after: underscore) < stem.endIndex else {
                throw TMTError(.configuration, "migration file \(directory)/\(file): name must look like 0001_description.sql")
            }
            let path = directory.hasSuffix("/") ? directory + file : directory + "/" + file
            guard let sql = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw TMTError(.configuration, "cannot read migration file \(path) as UTF-8")
            }
            let firstLine = sql.split(whereSeparator: \.isNewline).first.map { $0.trimmingWhitespace() }
            migrations.append(PostgresMigration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql,
                                                transactional: firstLine != "-- tmt:no-transaction"))
        }
        let byVersion = Dictionary(grouping: migrations, by: \.version)
        if let clash = byVersion.values.first(where: { $0.count > 1 }) {
            throw TMTError(.configuration, "migration files \(clash.map(\.identifier).joined(separator: " and ")) in \(directory) share version \(clash[0].version)")
        }
        return migrations.sorted { $0.version < $1.version }
    }

    // MARK: - Running

    /// Opens a dedicated connection, migrates, and closes it.
    @discardableResult
    public func migrate(configuration: PostgresConfiguration) throws -> PostgresMigrationReport {
        let connection = try PostgresConnection(configuration: configuration, logger: logger)
        defer { connection.close() }
        return try migrate(on: connection)
    }

    /// Migrates on one connection of `pool` (the advisory lock is held by that session).
    @discardableResult
    public func migrate(pool: PostgresPool) throws -> PostgresMigrationReport {
        try pool.withConnection { try migrate(on: $0) }
    }

    /// Migrates on `connection`, which must not be inside a transaction.
    @discardableResult
    public func migrate(on connection: PostgresConnection) throws -> PostgresMigrationReport {
        guard connection.transactionState == .idle else {
            throw TMTError(.invalidArgument, "migrate() needs a connection outside any transaction")
        }
        try lock(connection)
        defer { unlock(connection) }

        try ensureTable(connection)
        let recorded = try recordedMigrations(connection)

        var report = PostgresMigrationReport()
        let known = Set(migrations.map(\.version))
        report.unknownVersions = recorded.keys.filter { !known.contains($0) }.sorted()
        for m in migrations {
            guard let r = recorded[m.version] else { continue }
            guard r.checksum == m.checksum else {
                throw TMTError(.configuration,
                               "migration \(m.identifier) was changed after it was applied (its checksum differs from the one in \(tableName)); restore it and put the change in a new migration",
                               detail: "recorded \(r.checksum), file \(m.checksum)")
            }
            report.alreadyApplied.append(m)
        }

        for m in migrations where recorded[m.version] == nil {
            let start = Monotonic.nanos()
            do {
                try apply(m, on: connection, start: start)
            } catch let e as TMTError {
                throw TMTError(e.code, "migration \(m.identifier) failed: \(e.message)", detail: e.detail)
            }
            let ms = Int(Monotonic.secondsSince(start) * 1000)
            logger?.info("applied migration \(m.identifier)", ["ms": String(ms), "table": tableName])
            report.applied.append(m)
        }
        return report
    }

    /// The migrations not yet recorded in the database (no lock taken; for status displays).
    public func pending(on connection: PostgresConnection) throws -> [PostgresMigration] {
        let exists = try connection.queryOne("SELECT to_regclass($1) IS NOT NULL AS present", [tableName])?.decode(Bool.self, column: "present") ?? false
        guard exists else { return migrations }
        let recorded = try recordedMigrations(connection)
        return migrations.filter { recorded[$0.version] == nil }
    }

    private func apply(_ m: PostgresMigration, on connection: PostgresConnection, start: UInt64) throws {
        let timeout = String(statementTimeout.map { max(1, Int(($0 * 1000).rounded())) } ?? 0)
        let insert = "INSERT INTO \(tableName) (version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4)"
        if m.transactional {
            try connection.transaction { c in
                try c.execute("SELECT set_config('statement_timeout', $1, true)", [timeout])
                try c.executeScript(m.sql, operation: .migrate)
                try c.execute(insert, [m.version, m.name, m.checksum, Int(Monotonic.secondsSince(start) * 1000)])
            }
        } else {
            let previous = try connection.queryOne("SELECT current_setting('statement_timeout') AS t")?.decode(String.self, column: "t") ?? "0"
            try connection.execute("SELECT set_config('statement_timeout', $1, false)", [timeout])
            defer { _ = try? connection.execute("SELECT set_config('statement_timeout', $1, false)", [previous]) }
            try connection.executeScript(m.sql, operation: .migrate)
            try connection.execute(insert, [m.version, m.name, m.checksum, Int(Monotonic.secondsSince(start) * 1000)])
        }
    }

    private func ensureTable(_ connection: PostgresConnection) throws {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS \(tableName) (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                execution_ms bigint NOT NULL DEFAULT 0
            )
            """)
    }

    private func recordedMigrations(_ connection: PostgresConnection) throws -> [Int: (name: String, checksum: String)] {
        var out: [Int: (name: String, checksum: String)] = [:]
        for row in try connection.query("SELECT version, name, checksum FROM \(tableName) ORDER BY version") {
            out[try row.decode(Int.self, column: "version")] = (try row.decode(String.self, column: "name"), try row.decode(String.self, column: "checksum"))
        }
        return out
    }

    private func lock(_ connection: PostgresConnection) throws {
        // pg_try_advisory_lock in a loop rather than a blocking pg_advisory_lock: the wait stays
        // bounded without touching the session's lock_timeout, and a stuck peer yields a clear
        // error instead of a hang.
        let deadline = Monotonic.nanos() &+ UInt64(max(0, lockTimeout) * 1e9)
        while true {
            let locked = try connection.queryOne("SELECT pg_try_advisory_lock($1) AS locked", [lockKey])?.decode(Bool.self, column: "locked") ?? false
            if locked { return }
            if Monotonic.nanos() >= deadline {
                throw TMTError(.timeout, "another process held the migration lock (advisory lock \(lockKey) for \(tableName)) for more than \(PostgresConfiguration.format(lockTimeout)) s")
            }
            usleep(50_000)
        }
    }

    private func unlock(_ connection: PostgresConnection) {
        guard connection.isConnected else { return }
        if connection.transactionState != .idle { connection.rollbackAfterFailure() }
        _ = try? connection.execute("SELECT pg_advisory_unlock($1)", [lockKey])
    }

    static func isValidTableName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            guard let first = part.first, first == "_" || (first.isASCII && first.isLowercase) else { return false }
            return part.count <= 63 && part.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLowercase || $0.isNumber)) }
        }
    }

    /// FNV-1a of the table name: stable across processes, releases and machines.
    static func defaultLockKey(tableName: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "tmt-migrations:\(tableName)".utf8 {
            hash ^= UInt64(b)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    // MARK: - Command line

    /// The `tmt-migrate` tool: applies the migrations of a directory to the database named by an
    /// environment variable, prints one line per applied migration and a summary on stdout, and
    /// returns the exit status (0 done, 1 failed, 2 usage error).
    ///
    /// ```
    /// tmt-migrate --dir migrations/trading [--url-env DATABASE_URL] [--table schema_migrations]
    ///             [--lock-timeout 120] [--status]
    /// ```
    /// The URL comes from the environment (`DATABASE_URL` by default, or `<NAME>_FILE`, with an
    /// optional `<NAME>_PASSWORD`), never from the command line, where `ps` would show the
    /// password. `--status` lists applied and pending migrations without applying anything.
    ///
    /// - Parameters:
    ///   - arguments: `CommandLine.arguments`, including the program name.
    ///   - environment: the process environment.
    public static func runFromCommandLine(arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        let usage = "usage: tmt-migrate --dir DIRECTORY [--url-env NAME] [--table NAME] [--lock-timeout SECONDS] [--status]"
        var directory: String?
        var urlEnv = "DATABASE_URL"
        var table = "schema_migrations"
        var lockTimeout = 120.0
        var statusOnly = false

        var args = arguments.dropFirst()
        func fail(_ message: String) -> Int32 {
            writeLine("tmt-migrate: \(message)\n\(usage)", to: 2)
            return 2
        }
        while let arg = args.popFirst() {
            switch arg {
            case "--dir", "--url-env", "--table", "--lock-timeout":
                guard let value = args.popFirst() else { return fail("\(arg) needs a value") }
                switch arg {
                case "--dir": directory = value
                case "--url-env": urlEnv = value
                case "--table": table = value
                default:
                    guard let t = Double(value), t.isFinite, t >= 0 else { return fail("--lock-timeout needs a number of seconds") }
                    lockTimeout = t
                }
            case "--status":
                statusOnly = true
            case "-h", "--help":
                writeLine("""
                \(usage)

                Applies the versioned SQL migrations in DIRECTORY (files named 0001_name.sql, applied in
                version order) to the PostgreSQL database whose URL is in the environment variable NAME.
                Each migration runs once, in its own transaction, under an advisory lock, so several
                processes starting together apply it exactly once; applied migrations are recorded with a
                checksum in TABLE, and an edited one is refused by name.

                  --dir DIRECTORY          the migrations folder (required)
                  --url-env NAME           variable holding the database URL (default DATABASE_URL; also
                                           NAME_FILE, and NAME_PASSWORD to override the password). The URL is
                                           never taken from the command line, where ps would show the password.
                  --table NAME             bookkeeping table (default schema_migrations)
                  --lock-timeout SECONDS   how long to wait for another migrator (default 120)
                  --status                 list applied and pending migrations; apply nothing
                  --help                   this text

                Exit status: 0 done, 1 failed, 2 usage error.
                """, to: 1)
                return 0
            default:
                return fail("unknown argument '\(arg)'")
            }
        }
        guard let directory else { return fail("--dir is required") }

        let logger = Logger(service: "tmt-migrate")
        do {
            let configuration = try PostgresConfiguration(environment: Environment(environment), key: urlEnv)
            let migrator = try PostgresMigrator(directory: directory, tableName: table, lockTimeout: lockTimeout, logger: logger)
            let connection = try PostgresConnection(configuration: configuration, logger: logger)
            defer { connection.close() }
            if statusOnly {
                let pending = Set(try migrator.pending(on: connection).map(\.version))
                for m in migrator.migrations { writeLine("\(pending.contains(m.version) ? "pending" : "applied") \(m.identifier)", to: 1) }
                writeLine("tmt-migrate: \(pending.count) pending of \(migrator.migrations.count) (database \(configuration.database))", to: 1)
                return 0
            }
            let report = try migrator.migrate(on: connection)
            for m in report.applied { writeLine("applied \(m.identifier)", to: 1) }
            if !report.unknownVersions.isEmpty {
                writeLine("tmt-migrate: the database also has versions \(report.unknownVersions.map(String.init).joined(separator: ", ")) that \(directory) does not contain", to: 2)
            }
            writeLine("tmt-migrate: \(report.applied.count) applied, \(report.alreadyApplied.count) already applied (database \(configuration.database))", to: 1)
            return 0
        } catch let e as TMTError {
            writeLine("tmt-migrate: error: \(e.message)", to: 2)
            return 1
        } catch {
            writeLine("tmt-migrate: error: \(error)", to: 2)
            return 1
        }
    }

    /// One `write(2)` per line on the file descriptor, so lines of concurrent processes sharing
    /// a pipe never interleave and nothing sits in a stdio buffer at exit.
    private static func writeLine(_ line: String, to fd: Int32) {
        var bytes = Array((line + "\n").utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}
