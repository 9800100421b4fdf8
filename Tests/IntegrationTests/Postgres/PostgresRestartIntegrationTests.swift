import Foundation
import Synchronization
import TMTCore
import XCTest

/// The pool across a real `pg_ctl restart`: every pooled connection dies, and the next calls
/// must succeed without the caller doing anything.
final class PostgresRestartIntegrationTests: XCTestCase {
    private func pids(_ pool: PostgresPool) throws -> [Int] {
        // Two connections held at once, so both pooled sessions are exercised.
        try pool.withConnection { a in
            try pool.withConnection { b in
                try [a, b].map { try XCTUnwrap($0.queryOne("SELECT pg_backend_pid() AS pid")).decode(Int.self, column: "pid") }
            }
        }
    }

    func testPoolWorksAgainAfterTheServerRestarts() throws {
        let metrics = MetricsRegistry()
        let pool = try makePostgresPool(metrics: metrics) { $0.maxConnections = 2; $0.healthCheckInterval = 3600 }
        let table = try postgresTableName("restart")
        try pool.execute("CREATE TABLE \(table) (id int PRIMARY KEY)")
        try pool.execute("INSERT INTO \(table) VALUES ($1)", [1])
        let before = try pids(pool)
        XCTAssertEqual(pool.statistics.idle, 2)

        try TestServices.run("restart-postgres")

        // The first call after the restart is a write, which is never retried: it succeeds
        // because the dead sessions are detected when handed out, before anything is sent.
        // (healthCheckInterval is an hour, so no SELECT 1 probe helps here.)
        let start = Date()
        XCTAssertEqual(try pool.execute("INSERT INTO \(table) VALUES ($1)", [2]), 1)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        let after = try pids(pool)
        XCTAssertTrue(Set(before).isDisjoint(with: after), "both sessions were replaced: \(before) → \(after)")
        XCTAssertEqual(try pool.queryOne("SELECT count(*) AS n FROM \(table)")?.decode(Int.self, column: "n"), 2)
        XCTAssertEqual(metricValue(metrics, "tmt_db_errors_total{pool=\"\(pool.name)\",code=\"connection\"}"), 0, "no call failed")
    }

    func testAStatementRunningDuringTheRestartFailsClearlyAndTheNextCallSucceeds() throws {
        let pool = try makePostgresPool { $0.maxConnections = 1 }
        _ = try pool.query("SELECT 1")
        let running = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<[PostgresRow], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let r = Result { try pool.withConnection { conn -> [PostgresRow] in
                running.signal()
                return try conn.query("SELECT pg_sleep(30)")
            } }
            outcome.withLock { $0 = r }
            done.signal()
        }
        XCTAssertEqual(running.wait(timeout: .now() + 10), .success)
        Thread.sleep(forTimeInterval: 0.2)
        try TestServices.run("restart-postgres")
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success, "the sleeping statement was cut off by the restart")
        let result = try XCTUnwrap(outcome.withLock { $0 })
        XCTAssertThrowsError(try result.get()) { error in
            XCTAssertEqual((error as? TMTError)?.code, .connection, String(reflecting: error))
        }
        XCTAssertEqual(try pool.queryOne("SELECT 7 AS v")?.decode(Int.self, column: "v"), 7)
    }
}
