import Foundation
import Synchronization
import TMTCore
import XCTest

/// Helpers for the PostgreSQL integration tests: connections and pools on the test server that
/// are closed after the test, uniquely named tables and databases that are dropped afterwards.
extension XCTestCase {
    func postgresConfiguration(_ adjust: (inout PostgresConfiguration) -> Void = { _ in }) throws -> PostgresConfiguration {
        var c = try PostgresConfiguration(url: TestServices.postgresURL())
        c.connectTimeout = 5
        adjust(&c)
        return c
    }

    /// A connection on the test database; closed after the test.
    func makePostgresConnection(metrics: MetricsRegistry? = nil, _ adjust: (inout PostgresConfiguration) -> Void = { _ in }) throws -> PostgresConnection {
        let connection = try PostgresConnection(configuration: postgresConfiguration(adjust), metrics: metrics)
        addTeardownBlock { connection.close() }
        return connection
    }

    /// A pool on the test database with its own metrics registry; shut down after the test.
    func makePostgresPool(metrics: MetricsRegistry = MetricsRegistry(), _ adjust: (inout PostgresConfiguration) -> Void = { _ in }) throws -> PostgresPool {
        let pool = try PostgresPool(configuration: postgresConfiguration(adjust), metrics: metrics)
        addTeardownBlock { pool.shutdown() }
        return pool
    }

    /// A unique table name (`tmt_test_<hex>`) that is dropped after the test.
    func postgresTableName(_ hint: String = "t") throws -> String {
        let name = "tmt_test_\(hint)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        let url = try TestServices.postgresURL()
        addTeardownBlock {
            guard let c = try? PostgresConnection(configuration: PostgresConfiguration(url: url)) else { return }
            defer { c.close() }
            // The name is generated above from hex digits, so it is safe to splice as an identifier.
            _ = try? c.execute("DROP TABLE IF EXISTS \(name)")
        }
        return name
    }

    /// Creates an empty database with a unique name (trading_user has CREATEDB), dropped after the
    /// test. Returns its configuration and URL (with the password, for child processes).
    func freshPostgresDatabase() throws -> (configuration: PostgresConfiguration, url: String) {
        let baseURL = try TestServices.postgresURL()
        let base = try PostgresConfiguration(url: baseURL)
        let name = "tmt_test_db_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let admin = try PostgresConnection(configuration: base)
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(name)")
        addTeardownBlock {
            guard let c = try? PostgresConnection(configuration: base) else { return }
            defer { c.close() }
            _ = try? c.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
        var configuration = base
        configuration.database = name
        guard let slash = baseURL.range(of: "/\(base.database)") else {
            throw TMTError(.configuration, "cannot find the database name in the test URL")
        }
        return (configuration, baseURL.replacingCharacters(in: slash, with: "/\(name)"))
    }

    /// Terminates a server session from another connection and waits until it is gone.
    func terminatePostgresBackend(_ pid: Int) throws {
        let killer = try makePostgresConnection()
        let terminated = try killer.queryOne("SELECT pg_terminate_backend($1::int) AS ok", [pid])?.decode(Bool.self, column: "ok")
        XCTAssertEqual(terminated, true, "pg_terminate_backend(\(pid))")
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let left = try killer.queryOne("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1::int", [pid])?.decode(Int.self, column: "n")
            if left == 0 {
                // The backend leaves pg_stat_activity while exiting, a moment before its socket
                // is closed; the scenario under test is a connection that died while idle, so
                // let the close reach the client.
                Thread.sleep(forTimeInterval: 0.2)
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTFail("backend \(pid) still exists 5 s after pg_terminate_backend")
    }
}

/// Runs `body(i)` for `i` in `0..<count` on `count` separate threads (blocking work must not run
/// on the cooperative pool) and returns each outcome in order.
func runOnThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
    let results = Mutex<[Int: Result<T, any Error>]>([:])
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread.detachNewThread {
            let outcome = Result { try body(i) }
            results.withLock { $0[i] = outcome }
            group.leave()
        }
    }
    group.wait()
    return results.withLock { map in (0..<count).map { map[$0]! } }
}

