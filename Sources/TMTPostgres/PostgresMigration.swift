/// One versioned schema change.
///
/// Applied migrations must never be edited: the migrator stores each one's checksum and refuses
/// to run when a file no longer matches. Fix a mistake with a new migration.
public struct PostgresMigration: Sendable, Equatable {
    /// Orders the migrations and identifies them in `schema_migrations`. Positive, unique.
    public var version: Int
    /// A short description (`create_accounts`), recorded alongside the version.
    public var name: String
    /// The SQL: one or more statements separated by `;`. It runs with `PQexec`, so it must hold
    /// no values from outside (none exist at migration time) and no `BEGIN`/`COMMIT` of its own.
    public var sql: String
    /// Run inside a transaction together with its `schema_migrations` row (default), so a failing
    /// migration leaves nothing behind. Set to false only for statements PostgreSQL refuses in a
    /// transaction (`CREATE INDEX CONCURRENTLY`); such a migration should be a single statement.
    /// In files, a first line `-- tmt:no-transaction` sets it.
    public var transactional: Bool

    public init(version: Int, name: String, sql: String, transactional: Bool = true) {
        self.version = version
        self.name = name
        self.sql = sql
        self.transactional = transactional
    }

    /// `0001_create_accounts`: how errors and logs name it.
    public var identifier: String {
        let v = String(version)
        return (v.count < 4 ? String(repeating: "0", count: 4 - v.count) : "") + v + "_" + name
    }

    /// SHA-256 of the SQL (hex) with CRLF line ends read as LF, so a checkout on Windows does
    /// not count as an edit.
    public var checksum: String {
        let bytes = Array(sql.utf8)
        var normalised: [UInt8] = []
        normalised.reserveCapacity(bytes.count)
        for (i, b) in bytes.enumerated() where !(b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A) {
            normalised.append(b)
        }
        return SHA256.hex(normalised)
    }
}
