import XCTest
@testable import TMTPostgres
import TMTBase
import Foundation

final class PostgresMigrationLoaderTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "tmt-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    private func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as TMTError { return e.message } catch { return "\(error)" }
    }

    func testFilesLoadSortedByVersionAndOtherFilesAreIgnored() throws {
        try write("0010_add_fills.sql", "CREATE TABLE fills (id int);")
        try write("0002_create_orders.sql", "CREATE TABLE orders (id int);\nCREATE INDEX ON orders (id);\n")
        try write("0001_create_accounts.sql", "CREATE TABLE accounts (id int);")
        try write("README.md", "not a migration")
        try write(".0003_hidden.sql", "ignored")
        let migrations = try PostgresMigrator.loadMigrations(directory: directory)
        XCTAssertEqual(migrations.map(\.version), [1, 2, 10])
        XCTAssertEqual(migrations.map(\.identifier), ["0001_create_accounts", "0002_create_orders", "0010_add_fills"])
        XCTAssertEqual(migrations[1].sql, "CREATE TABLE orders (id int);\nCREATE INDEX ON orders (id);\n")
        XCTAssertTrue(migrations.allSatisfy(\.transactional))
    }

    func testMisnamedSQLFileIsAnErrorNamingIt() throws {
        try write("0001_ok.sql", "SELECT 1;")
        try write("create_orders.sql", "SELECT 1;")
        let m = message { _ = try PostgresMigrator.loadMigrations(directory: directory) }
        XCTAssertTrue(m?.contains("create_orders.sql") ?? false, m ?? "no error")
    }

    func testDuplicateVersionsAreRejectedNamingBoth() throws {
        try write("0001_a.sql", "SELECT 1;")
        try write("1_b.sql", "SELECT 2;")
        let m = message { _ = try PostgresMigrator.loadMigrations(directory: directory) }
        XCTAssertTrue((m?.contains("0001_a") ?? false) && (m?.contains("0001_b") ?? false), m ?? "no error")
        let inline = message {
            _ = try PostgresMigrator(migrations: [PostgresMigration(version: 3, name: "x", sql: ""), PostgresMigration(version: 3, name: "y", sql: "")])
        }
        XCTAssertEqual(inline, "migrations 0003_x and 0003_y share version 3")
    }

    func testNoTransactionMarker() throws {
        try write("0001_concurrent_index.sql", "-- tmt:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);\n")
        XCTAssertEqual(try PostgresMigrator.loadMigrations(directory: directory).first?.transactional, false)
    }

    func testChecksumIsSHA256OfTheSQLAndIgnoresCRLF() {
        let lf = PostgresMigration(version: 1, name: "t", sql: "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n")
        let crlf = PostgresMigration(version: 1, name: "t", sql: "CREATE TABLE t (id int);\r\nINSERT INTO t VALUES (1);\r\n")
        XCTAssertEqual(lf.checksum, "ca2e30c7bf4ae893a75714da225cab24092983eef3fc4de5988d59bbf722acfb")
        XCTAssertEqual(crlf.checksum, lf.checksum)
        XCTAssertNotEqual(PostgresMigration(version: 1, name: "t", sql: "CREATE TABLE t (id bigint);").checksum, lf.checksum)
    }

    func testTableNameMustBeAPlainIdentifierAndLockKeyIsStable() throws {
        XCTAssertNotNil(message { _ = try PostgresMigrator(migrations: [], tableName: "x; DROP TABLE y") })
        XCTAssertNotNil(message { _ = try PostgresMigrator(migrations: [], tableName: "Schema_Migrations") })
        XCTAssertNil(message { _ = try PostgresMigrator(migrations: [], tableName: "ops.schema_migrations") })
        let a = try PostgresMigrator(migrations: [])
        let b = try PostgresMigrator(migrations: [])
        let other = try PostgresMigrator(migrations: [], tableName: "market_migrations")
        XCTAssertEqual(a.lockKey, b.lockKey)
        XCTAssertNotEqual(a.lockKey, other.lockKey)
        XCTAssertEqual(a.lockKey, PostgresMigrator.defaultLockKey(tableName: "schema_migrations"))
    }

    func testCommandLineRejectsBadUsageBeforeConnecting() {
        XCTAssertEqual(PostgresMigrator.runFromCommandLine(arguments: ["tmt-migrate"], environment: [:]), 2)
        XCTAssertEqual(PostgresMigrator.runFromCommandLine(arguments: ["tmt-migrate", "--dir"], environment: [:]), 2)
        XCTAssertEqual(PostgresMigrator.runFromCommandLine(arguments: ["tmt-migrate", "--dir", directory, "--frobnicate"], environment: [:]), 2)
        XCTAssertEqual(PostgresMigrator.runFromCommandLine(arguments: ["tmt-migrate", "--dir", directory], environment: [:]), 1,
                       "no DATABASE_URL is a runtime error, not a usage error")
    }
}
