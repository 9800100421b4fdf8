import Foundation
import Synchronization
import TMTCore
import XCTest

/// `PostgresMigrator` against a fresh database per test, including concurrent runs.
final class PostgresMigratorIntegrationTests: XCTestCase {
    /// Would fail if run twice: no IF NOT EXISTS, a primary key, and a sleep that keeps the first
    /// runner inside the lock long enough for a concurrent one to arrive.
    private let raceMigrations = [
        PostgresMigration(version: 1, name: "create_race", sql: """
            CREATE TABLE race_t1 (id int PRIMARY KEY, note text NOT NULL);
            SELECT pg_sleep(0.5);
            INSERT INTO race_t1 VALUES (1, 'first');
            """),
        PostgresMigration(version: 2, name: "add_column", sql: """
            ALTER TABLE race_t1 ADD COLUMN extra int;
            INSERT INTO race_t1 VALUES (2, 'second', 7);
            """),
    ]

    private func scalar<T: PostgresDecodable>(_ conn: PostgresConnection, _ sql: String, _ type: T.Type = T.self) throws -> T {
        guard let row = try conn.queryOne(sql) else { throw TMTError(.query, "no row for \(sql)") }
        return try row.decode(T.self, at: 0)
    }

    private func assertAppliedExactlyOnce(_ configuration: PostgresConfiguration, file: StaticString = #filePath, line: UInt = #line) throws {
        let conn = try PostgresConnection(configuration: configuration)
        defer { conn.close() }
        XCTAssertEqual(try scalar(conn, "SELECT count(*) FROM race_t1", Int.self), 2, file: file, line: line)
        let versions = try conn.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode(Int.self, at: 0) }
        XCTAssertEqual(versions, [1, 2], file: file, line: line)
        let checksums = try conn.query("SELECT checksum FROM schema_migrations ORDER BY version").map { try $0.decode(String.self, at: 0) }
        XCTAssertEqual(checksums, raceMigrations.map(\.checksum), file: file, line: line)
    }

    func testMigrationsApplyOnceInOrderAndAreRecorded() throws {
        let db = try freshPostgresDatabase()
        let migrator = try PostgresMigrator(migrations: raceMigrations.reversed())
        let first = try migrator.migrate(configuration: db.configuration)
        XCTAssertEqual(first.applied.map(\.version), [1, 2])
        XCTAssertEqual(first.alreadyApplied, [])
        let second = try migrator.migrate(configuration: db.configuration)
        XCTAssertEqual(second.applied, [])
        XCTAssertEqual(second.alreadyApplied.map(\.version), [1, 2])
        try assertAppliedExactlyOnce(db.configuration)

        let conn = try PostgresConnection(configuration: db.configuration)
        defer { conn.close() }
        let names = try conn.query("SELECT name FROM schema_migrations ORDER BY version").map { try $0.decode(String.self, at: 0) }
        XCTAssertEqual(names, ["create_race", "add_column"])
        XCTAssertEqual(try migrator.pending(on: conn), [])
        XCTAssertEqual(try scalar(conn, "SELECT count(*) FROM schema_migrations WHERE applied_at > now() - interval '1 minute'", Int.self), 2)
    }

    func testAFailingMigrationLeavesNothingBehindAndIsNamed() throws {
        let db = try freshPostgresDatabase()
        let migrations = [
            PostgresMigration(version: 1, name: "ok", sql: "CREATE TABLE good (id int);"),
            PostgresMigration(version: 2, name: "broken", sql: "CREATE TABLE half (id int);\nINSERT INTO missing_table VALUES (1);"),
        ]
        let migrator = try PostgresMigrator(migrations: migrations)
        let runner = try PostgresConnection(configuration: db.configuration)
        defer { runner.close() }
        XCTAssertThrowsError(try migrator.migrate(on: runner)) { error in
            let e = error as? TMTError
            XCTAssertTrue(e?.message.hasPrefix("migration 0002_broken failed:") ?? false, "\(error)")
            XCTAssertEqual(e?.sqlState, "42P01")
        }
        XCTAssertEqual(runner.transactionState, .idle)

        let conn = try PostgresConnection(configuration: db.configuration)
        defer { conn.close() }
        XCTAssertEqual(try scalar(conn, "SELECT to_regclass('good') IS NOT NULL", Bool.self), true)
        XCTAssertEqual(try scalar(conn, "SELECT to_regclass('half') IS NOT NULL", Bool.self), false, "the failed migration's first statement was rolled back")
        XCTAssertEqual(try conn.query("SELECT version FROM schema_migrations").map { try $0.decode(Int.self, at: 0) }, [1])
        // The runner's session is still open, so only an explicit unlock frees the lock.
        let lockFree = try conn.queryOne("SELECT pg_try_advisory_lock($1)", [migrator.lockKey])?.decode(Bool.self, at: 0)
        XCTAssertEqual(lockFree, true, "the advisory lock was released after the failure")
    }

    func testAnEditedAppliedMigrationIsRejectedByName() throws {
        let db = try freshPostgresDatabase()
        try PostgresMigrator(migrations: raceMigrations).migrate(configuration: db.configuration)
        var edited = raceMigrations
        edited[0].sql += "\nCREATE INDEX ON race_t1 (note);"
        edited.append(PostgresMigration(version: 3, name: "never_applied", sql: "CREATE TABLE t3 (id int);"))
        XCTAssertThrowsError(try PostgresMigrator(migrations: edited).migrate(configuration: db.configuration)) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .configuration)
            XCTAssertTrue(e?.message.contains("migration 0001_create_race was changed after it was applied") ?? false, "\(error)")
        }
        let conn = try PostgresConnection(configuration: db.configuration)
        defer { conn.close() }
        XCTAssertEqual(try scalar(conn, "SELECT to_regclass('t3') IS NOT NULL", Bool.self), false, "nothing is applied after a mismatch")
    }

    func testTwoThreadsMigratingAtOnceApplyEachMigrationOnce() throws {
        let db = try freshPostgresDatabase()
        let migrator = try PostgresMigrator(migrations: raceMigrations, lockTimeout: 30)
        let configuration = db.configuration
        let arrived = Mutex(0)
        let outcomes = runOnThreads(2) { _ -> PostgresMigrationReport in
            // Each thread has its own session; a small barrier makes both call migrate together.
            let conn = try PostgresConnection(configuration: configuration)
            defer { conn.close() }
            arrived.withLock { $0 += 1 }
            while arrived.withLock({ $0 }) < 2 { usleep(1_000) }
            return try migrator.migrate(on: conn)
        }
        XCTAssertEqual(outcomes.count, 2)
        let reports = try outcomes.map { try $0.get() }
        XCTAssertEqual(reports.map(\.applied.count).reduce(0, +), 2, "each migration applied by exactly one runner")
        XCTAssertTrue(reports.allSatisfy { $0.applied.count + $0.alreadyApplied.count == 2 })
        try assertAppliedExactlyOnce(configuration)
    }

    func testTwoProcessesMigratingAtOnceApplyEachMigrationOnce() throws {
        let tool = TestServices.executable("tmt-migrate")
        guard FileManager.default.isExecutableFile(atPath: tool.path) else {
            return XCTFail("\(tool.path) is missing: build the tmt-migrate executable (it calls PostgresMigrator.runFromCommandLine) before running this test")
        }
        let db = try freshPostgresDatabase()
        let directory = NSTemporaryDirectory() + "tmt-migrate-race-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for m in raceMigrations {
            try m.sql.write(toFile: "\(directory)/\(m.identifier).sql", atomically: true, encoding: .utf8)
        }

        var processes: [(Process, Pipe, Pipe)] = []
        for _ in 0..<2 {
            let p = Process()
            p.executableURL = tool
            p.arguments = ["--dir", directory]
            var env = ProcessInfo.processInfo.environment
            env["DATABASE_URL"] = db.url
            p.environment = env
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            processes.append((p, out, err))
        }
        for (p, _, _) in processes { try p.run() }
        var applied = 0
        for (p, out, err) in processes {
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "tmt-migrate failed:\n\(stdout)\(stderr)")
            XCTAssertFalse((stdout + stderr).contains(try XCTUnwrap(db.configuration.password)), "the password never reaches the output")
            applied += stdout.split(separator: "\n").filter { $0.hasPrefix("applied ") }.count
        }
        XCTAssertEqual(applied, 2, "between them the two processes applied each migration once")
        try assertAppliedExactlyOnce(db.configuration)
    }
}
