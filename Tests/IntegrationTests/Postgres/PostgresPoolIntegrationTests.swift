import Foundation
import Synchronization
import TMTCore
import XCTest

private func backendPID(_ conn: PostgresConnection) throws -> Int {
    try XCTUnwrap(conn.queryOne("SELECT pg_backend_pid() AS pid")).decode(Int.self, column: "pid")
}

/// Bounds, timeouts, metrics and broken-connection handling of `PostgresPool` on the real server.
final class PostgresPoolIntegrationTests: XCTestCase {

    func testExhaustedPoolFailsAfterTheAcquireTimeoutWithAClearError() throws {
        let metrics = MetricsRegistry()
        let pool = try makePostgresPool(metrics: metrics) { $0.maxConnections = 1; $0.acquireTimeout = 0.3 }
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? pool.withConnection { conn in
                _ = try conn.query("SELECT 1")
                holding.signal()
                _ = release.wait(timeout: .now() + 10)
            }
        }
        XCTAssertEqual(holding.wait(timeout: .now() + 10), .success)
        defer { release.signal() }

        let start = Date()
        XCTAssertThrowsError(try pool.query("SELECT 1")) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .poolExhausted)
            XCTAssertEqual(e?.message, "no PostgreSQL connection available within 0.3 s (pool max 1)")
        }
        let waited = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(waited, 0.29)
        XCTAssertLessThan(waited, 3)
        XCTAssertEqual(metricValue(metrics, "tmt_db_errors_total{pool=\"\(pool.name)\",code=\"pool_exhausted\"}"), 1)
        XCTAssertEqual(pool.statistics.inUse, 1)
    }

    func testConnectionsAreOpenedLazilyReusedAndBounded() throws {
        let metrics = MetricsRegistry()
        let pool = try makePostgresPool(metrics: metrics) { $0.maxConnections = 2; $0.acquireTimeout = 10 }
        XCTAssertEqual(pool.statistics, .init(inUse: 0, idle: 0, max: 2), "nothing opened before first use")
        let first = try pool.withConnection { try backendPID($0) }
        let second = try pool.withConnection { try backendPID($0) }
        XCTAssertEqual(first, second, "a returned connection is reused")
        XCTAssertEqual(pool.statistics.idle, 1)

        let maxSeen = Mutex((current: 0, peak: 0))
        let pids = Mutex(Set<Int>())
        let outcomes = runOnThreads(6) { _ in
            for _ in 0..<5 {
                try pool.withConnection { conn in
                    maxSeen.withLock { $0.current += 1; $0.peak = max($0.peak, $0.current) }
                    let p = try backendPID(conn)
                    pids.withLock { _ = $0.insert(p) }
                    _ = try conn.query("SELECT pg_sleep(0.01)")
                    maxSeen.withLock { $0.current -= 1 }
                }
            }
        }
        for outcome in outcomes { XCTAssertNoThrow(try outcome.get()) }
        XCTAssertLessThanOrEqual(maxSeen.withLock { $0.peak }, 2)
        XCTAssertLessThanOrEqual(pids.withLock { $0.count }, 2, "never more than max connections to the server")
        XCTAssertEqual(pool.statistics.inUse, 0)
        XCTAssertEqual(metricValue(metrics, "tmt_db_connections_max{pool=\"\(pool.name)\"}"), 2)
        XCTAssertEqual(metricValue(metrics, "tmt_db_connections_active{pool=\"\(pool.name)\"}"), 0)
        XCTAssertEqual(metricValue(metrics, "tmt_db_query_duration_seconds_count{pool=\"\(pool.name)\",operation=\"query\"}"), 62)
    }

    func testActiveGaugeCountsConnectionsInUse() throws {
        let metrics = MetricsRegistry()
        let pool = try makePostgresPool(metrics: metrics) { $0.maxConnections = 3 }
        let sample = "tmt_db_connections_active{pool=\"\(pool.name)\"}"
        try pool.withConnection { _ in
            XCTAssertEqual(metricValue(metrics, sample), 1)
            try pool.withConnection { _ in XCTAssertEqual(metricValue(metrics, sample), 2) }
        }
        XCTAssertEqual(metricValue(metrics, sample), 0)
    }

    func testIdleConnectionsArePingedOnlyAfterTheHealthCheckInterval() throws {
        let eagerMetrics = MetricsRegistry()
        let eager = try makePostgresPool(metrics: eagerMetrics) { $0.maxConnections = 1; $0.healthCheckInterval = 0 }
        let lazyMetrics = MetricsRegistry()
        let lazy = try makePostgresPool(metrics: lazyMetrics) { $0.maxConnections = 1; $0.healthCheckInterval = 3600 }
        for _ in 0..<3 {
            _ = try eager.query("SELECT 1")
            _ = try lazy.query("SELECT 1")
        }
        XCTAssertEqual(metricValue(eagerMetrics, "tmt_db_query_duration_seconds_count{pool=\"\(eager.name)\",operation=\"ping\"}"), 2,
                       "every hand-out of an existing connection was checked with a round trip")
        XCTAssertEqual(metricValue(lazyMetrics, "tmt_db_query_duration_seconds_count{pool=\"\(lazy.name)\",operation=\"ping\"}"), 0)
    }

    func testAnIdleConnectionKilledByTheServerIsReplacedBeforeUse() throws {
        let metrics = MetricsRegistry()
        let pool = try makePostgresPool(metrics: metrics) { $0.maxConnections = 1 }
        let table = try postgresTableName("replaced")
        try pool.execute("CREATE TABLE \(table) (id int)")
        let before = try pool.withConnection { try backendPID($0) }
        try terminatePostgresBackend(before)

        // A write, which the pool never retries: it succeeds because the dead connection is
        // noticed at hand-out, before anything is sent.
        XCTAssertEqual(try pool.execute("INSERT INTO \(table) VALUES ($1)", [1]), 1)
        let after = try pool.withConnection { try backendPID($0) }
        XCTAssertNotEqual(before, after)
        XCTAssertEqual(metricValue(metrics, "tmt_db_errors_total{pool=\"\(pool.name)\",code=\"connection\"}"), 0, "no call failed")
    }

    func testAWriteOnAConnectionThatBreaksFailsAndIsNotRetried() throws {
        let pool = try makePostgresPool { $0.maxConnections = 1 }
        let table = try postgresTableName("noretry")
        try pool.execute("CREATE TABLE \(table) (id int)")
        let calls = Mutex(0)
        XCTAssertThrowsError(try pool.withConnection { conn in
            calls.withLock { $0 += 1 }
            try terminatePostgresBackend(try backendPID(conn))
            try conn.execute("INSERT INTO \(table) VALUES ($1)", [1])
        }) { error in
            XCTAssertEqual((error as? TMTError)?.code, .connection, "\(error)")
        }
        XCTAssertEqual(calls.withLock { $0 }, 1)
        XCTAssertEqual(try pool.queryOne("SELECT count(*) AS n FROM \(table)")?.decode(Int.self, column: "n"), 0)
        XCTAssertEqual(pool.statistics, .init(inUse: 0, idle: 1, max: 1), "the broken connection was replaced")
    }

    func testAReadIsRetriedOnceWhenTheCallerSaysItIsSafe() throws {
        let pool = try makePostgresPool { $0.maxConnections = 1 }
        let calls = Mutex(0)
        let value = try pool.withConnection(retryOnConnectionLoss: true) { conn -> Int in
            let call = calls.withLock { $0 += 1; return $0 }
            if call == 1 { try terminatePostgresBackend(try backendPID(conn)) }
            // Not XCTUnwrap: it would record the expected first failure as a test failure.
            guard let row = try conn.queryOne("SELECT 41 + 1 AS v") else { throw TMTError(.query, "no row") }
            return try row.decode(Int.self, column: "v")
        }
        XCTAssertEqual(value, 42)
        XCTAssertEqual(calls.withLock { $0 }, 2)
    }

    func testALeakedOpenTransactionIsRolledBackWhenTheConnectionReturns() throws {
        let pool = try makePostgresPool { $0.maxConnections = 1 }
        let table = try postgresTableName("leak")
        try pool.execute("CREATE TABLE \(table) (id int)")
        try pool.withConnection { conn in
            try conn.execute("BEGIN")
            try conn.execute("INSERT INTO \(table) VALUES ($1)", [1])
        }
        try pool.withConnection { conn in
            XCTAssertEqual(conn.transactionState, .idle)
            XCTAssertEqual(try conn.queryOne("SELECT count(*) AS n FROM \(table)")?.decode(Int.self, column: "n"), 0)
        }
    }

    func testShutdownRefusesNewWork() throws {
        let pool = try makePostgresPool()
        _ = try pool.query("SELECT 1")
        pool.shutdown()
        XCTAssertEqual(pool.statistics.idle, 0)
        XCTAssertThrowsError(try pool.query("SELECT 1")) { error in
            XCTAssertEqual((error as? TMTError)?.code, .closed, "\(error)")
        }
    }

    func testUnreachableServerFailsWithAConnectionError() throws {
        let pool = try makePostgresPool { $0.port = 1; $0.host = "127.0.0.1"; $0.connectTimeout = 2 }
        XCTAssertThrowsError(try pool.query("SELECT 1")) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .connection, "\(error)")
            XCTAssertTrue(e?.message.contains("127.0.0.1:1") ?? false, "\(error)")
        }
        XCTAssertEqual(pool.statistics.inUse, 0, "the failed attempt gave its slot back")
    }
}
