import Foundation
import Synchronization
import TMTCore
import XCTest

/// BEGIN/COMMIT/ROLLBACK behaviour against the real server.
final class PostgresTransactionIntegrationTests: XCTestCase {
    private struct Abort: Error, Equatable {}

    private func count(_ conn: PostgresConnection, _ table: String) throws -> Int {
        try XCTUnwrap(conn.queryOne("SELECT count(*) AS n FROM \(table)")).decode(Int.self, column: "n")
    }

    private func makeLedger(_ conn: PostgresConnection) throws -> String {
        let table = try postgresTableName("ledger")
        try conn.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY, amount numeric NOT NULL)")
        return table
    }

    func testCommittedWorkPersistsAndIsVisibleToOtherSessions() throws {
        let conn = try makePostgresConnection()
        let other = try makePostgresConnection()
        let table = try makeLedger(conn)
        let total: Decimal = try conn.transaction { tx in
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [1, Decimal(string: "10.50")!])
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [2, Decimal(string: "-0.25")!])
            XCTAssertEqual(try self.count(other, table), 0, "not visible before COMMIT")
            return try XCTUnwrap(tx.queryOne("SELECT sum(amount) AS s FROM \(table)")).decode(Decimal.self, column: "s")
        }
        XCTAssertEqual(total, Decimal(string: "10.25"))
        XCTAssertEqual(try count(other, table), 2)
        XCTAssertEqual(conn.transactionState, .idle)
    }

    func testAThrownErrorRollsEverythingBackAndIsRethrown() throws {
        let conn = try makePostgresConnection()
        let table = try makeLedger(conn)
        XCTAssertThrowsError(try conn.transaction { tx in
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [1, Decimal(1)])
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [2, Decimal(2)])
            throw Abort()
        }) { error in
            XCTAssertEqual(error as? Abort, Abort(), "the body's own error comes back unchanged")
        }
        XCTAssertEqual(try count(conn, table), 0)
        XCTAssertEqual(conn.transactionState, .idle)
    }

    func testAFailedStatementRollsBackTheWholeTransaction() throws {
        let conn = try makePostgresConnection()
        let table = try makeLedger(conn)
        XCTAssertThrowsError(try conn.transaction { tx in
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [1, Decimal(1)])
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [1, Decimal(2)])
        }) { error in
            XCTAssertTrue((error as? TMTError)?.isUniqueViolation ?? false, "\(error)")
        }
        XCTAssertEqual(try count(conn, table), 0)
    }

    func testASwallowedFailureMakesCommitThrowInsteadOfPretending() throws {
        let conn = try makePostgresConnection()
        let table = try makeLedger(conn)
        XCTAssertThrowsError(try conn.transaction { tx in
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [1, Decimal(1)])
            _ = try? tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [1, Decimal(1)])
        }) { error in
            XCTAssertTrue((error as? TMTError)?.message.contains("rolled back at COMMIT") ?? false, "\(error)")
        }
        XCTAssertEqual(try count(conn, table), 0)
        XCTAssertEqual(conn.transactionState, .idle)
    }

    func testIsolationLevelAndReadOnlyAreApplied() throws {
        let conn = try makePostgresConnection()
        let table = try makeLedger(conn)
        let level = try conn.transaction(isolation: .serializable) { tx in
            try XCTUnwrap(tx.queryOne("SHOW transaction_isolation")).decode(String.self, at: 0)
        }
        XCTAssertEqual(level, "serializable")
        XCTAssertThrowsError(try conn.transaction(readOnly: true) { tx in
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [1, Decimal(1)])
        }) { error in
            XCTAssertEqual((error as? TMTError)?.sqlState, "25006", "\(error)")
        }
    }

    func testNestedTransactionsAreRefused() throws {
        let conn = try makePostgresConnection()
        XCTAssertThrowsError(try conn.transaction { tx in
            try tx.transaction { _ in }
        }) { error in
            XCTAssertEqual((error as? TMTError)?.code, .invalidArgument, "\(error)")
        }
        XCTAssertEqual(conn.transactionState, .idle)
    }

    /// Two serializable transactions that each read the same rows and then write: the second to
    /// commit fails with 40001. `pool.transaction(maxAttempts:)` runs it again and it succeeds.
    func testSerializationFailureIsRetryableAndThePoolRetriesIt() throws {
        let pool = try makePostgresPool { $0.maxConnections = 2 }
        let table = try postgresTableName("serial")
        try pool.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY, who text NOT NULL)")

        let firstHasRead = DispatchSemaphore(value: 0)
        let secondHasRead = DispatchSemaphore(value: 0)
        let firstCommitted = DispatchSemaphore(value: 0)
        let attempts = Mutex([0, 0])

        let outcomes = runOnThreads(2) { worker -> Int in
            let seen = try pool.transaction(isolation: .serializable, maxAttempts: worker == 1 ? 3 : 1) { tx -> Int in
                let attempt = attempts.withLock { $0[worker] += 1; return $0[worker] }
                let seen = try XCTUnwrap(tx.queryOne("SELECT count(*) AS n FROM \(table)")).decode(Int.self, column: "n")
                if worker == 0 {
                    firstHasRead.signal()
                    _ = secondHasRead.wait(timeout: .now() + 10)
                } else if attempt == 1 {
                    _ = firstHasRead.wait(timeout: .now() + 10)
                    secondHasRead.signal()
                    _ = firstCommitted.wait(timeout: .now() + 10)
                }
                try tx.execute("INSERT INTO \(table) (id, who) VALUES ($1, $2)", [worker * 100 + seen, "worker \(worker)"])
                return seen
            }
            if worker == 0 { firstCommitted.signal() }
            return seen
        }
        XCTAssertEqual(try outcomes[0].get(), 0)
        XCTAssertEqual(try outcomes[1].get(), 1, "the retried attempt saw worker 0's row")
        XCTAssertEqual(attempts.withLock { $0 }, [1, 2])
        XCTAssertEqual(try pool.queryOne("SELECT count(*) AS n FROM \(table)")?.decode(Int.self, column: "n"), 2)
    }
}
