import Foundation
import TMTCore
import XCTest

/// `executeBatch` (libpq pipeline mode) against the real server.
final class PostgresBatchIntegrationTests: XCTestCase {
    private func makeTicks(_ conn: PostgresConnection) throws -> String {
        let table = try postgresTableName("ticks")
        try conn.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY, instrument text NOT NULL, bid numeric NOT NULL, at timestamptz NOT NULL)")
        return table
    }

    private func count(_ conn: PostgresConnection, _ table: String) throws -> Int {
        guard let row = try conn.queryOne("SELECT count(*) AS n FROM \(table)") else { return -1 }
        return try row.decode(Int.self, column: "n")
    }

    func testBatchInsertsEveryRowAcrossSeveralPipelineChunks() throws {
        let conn = try makePostgresConnection()
        let table = try makeTicks(conn)
        let base = Date(timeIntervalSince1970: 1_767_323_045)
        var sets: [[any PostgresEncodable]] = []
        for i in 0..<1000 {
            let instrument: String = i % 2 == 0 ? "EURUSD" : "USDJPY"
            let bid: Decimal = Decimal(i) / 1000 + 1
            let at: Date = base.addingTimeInterval(Double(i) / 1000)
            sets.append([i, instrument, bid, at])
        }
        XCTAssertEqual(try conn.executeBatch("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", sets), 1000)
        XCTAssertEqual(try count(conn, table), 1000)
        let sum = try conn.queryOne("SELECT sum(bid) AS s FROM \(table)")?.decode(Decimal.self, column: "s")
        XCTAssertEqual(sum, Decimal(string: "1499.5"), "1000 + (0+…+999)/1000")
        XCTAssertEqual(conn.transactionState, .idle)
    }

    func testAFailingSetRollsBackTheWholeBatchAndIsNamedByPosition() throws {
        let conn = try makePostgresConnection()
        let table = try makeTicks(conn)
        let now = Date()
        var sets: [[any PostgresEncodable]] = []
        for i in 0..<700 { sets.append([i, "EURUSD", Decimal(1), now]) }
        sets[599] = [5, "SECRET-INSTRUMENT", Decimal(1), now]
        XCTAssertThrowsError(try conn.executeBatch("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", sets)) { error in
            guard let e = error as? TMTError else { return XCTFail("\(error)") }
            XCTAssertTrue(e.isUniqueViolation, String(reflecting: e))
            XCTAssertTrue(e.message.contains("parameter set 600"), e.message)
            XCTAssertFalse(String(reflecting: e).contains("SECRET"), String(reflecting: e))
        }
        XCTAssertEqual(try count(conn, table), 0, "nothing of the batch was kept")
        XCTAssertEqual(conn.transactionState, .idle)
        XCTAssertTrue(conn.isConnected)
        XCTAssertEqual(try conn.executeBatch("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", [[1, "GBPUSD", Decimal(2), now]]), 1)
    }

    func testABatchInsideATransactionIsPartOfIt() throws {
        let pool = try makePostgresPool()
        let table = try pool.withConnection { try makeTicks($0) }
        struct Abort: Error {}
        XCTAssertThrowsError(try pool.transaction { tx in
            try tx.executeBatch("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)",
                                [[1, "EURUSD", Decimal(1), Date()], [2, "EURUSD", Decimal(1), Date()]])
            throw Abort()
        })
        XCTAssertEqual(try pool.withConnection { try count($0, table) }, 0)
        XCTAssertEqual(try pool.executeBatch("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)",
                                             [[3, "EURUSD", Decimal(1), Date()]]), 1)
    }

    func testMismatchedParameterSetsAreRefusedBeforeSending() throws {
        let conn = try makePostgresConnection()
        let table = try makeTicks(conn)
        XCTAssertThrowsError(try conn.executeBatch("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)",
                                                   [[1, "A", Decimal(1), Date()], [2, "B"]])) { error in
            XCTAssertEqual((error as? TMTError)?.code, .invalidArgument)
            XCTAssertTrue((error as? TMTError)?.message.contains("parameter set 2 has 2 values") ?? false, "\(error)")
        }
        XCTAssertEqual(try count(conn, table), 0)
    }

    // MARK: - executeTogether: different statements, one round trip

    func testStatementsTogetherAreAllOrNothingAndNamedByPosition() throws {
        let conn = try makePostgresConnection()
        let table = try makeTicks(conn)
        let audit = try postgresTableName("audit")
        try conn.execute("CREATE TABLE \(audit) (id int8 PRIMARY KEY, note text NOT NULL)")
        let now = Date()
        let affected = try conn.executeTogether([
            ("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", [1, "EURUSD", Decimal(string: "1.0843")!, now]),
            ("INSERT INTO \(audit) (id, note) VALUES ($1, $2)", [1, "first"]),
            ("UPDATE \(table) SET bid = bid + $2 WHERE id = $1", [1, Decimal(string: "0.0001")!]),
        ])
        XCTAssertEqual(affected, [1, 1, 1])
        XCTAssertEqual(try conn.queryOne("SELECT bid FROM \(table) WHERE id = 1")?.decode(Decimal.self, column: "bid"), Decimal(string: "1.0844"))

        // The third statement fails: the first two, already executed, are rolled back with it.
        XCTAssertThrowsError(try conn.executeTogether([
            ("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", [2, "GBPUSD", Decimal(1), now]),
            ("INSERT INTO \(audit) (id, note) VALUES ($1, $2)", [2, "second"]),
            ("INSERT INTO \(audit) (id, note) VALUES ($1, $2)", [1, "SECRET duplicate"]),
        ])) { error in
            guard let e = error as? TMTError else { return XCTFail("\(error)") }
            XCTAssertTrue(e.isUniqueViolation, String(reflecting: e))
            XCTAssertTrue(e.message.contains("statement 3 of 3"), e.message)
            XCTAssertFalse(String(reflecting: e).contains("SECRET"), String(reflecting: e))
        }
        XCTAssertEqual(try count(conn, table), 1, "the failed group's insert was rolled back")
        XCTAssertEqual(try count(conn, audit), 1)
        XCTAssertEqual(conn.transactionState, .idle)
        XCTAssertTrue(conn.isConnected, "the connection is usable after a failed group")
        XCTAssertEqual(try conn.executeTogether([("INSERT INTO \(audit) (id, note) VALUES ($1, $2)", [3, "third"])]), [1])
    }

    func testStatementsTogetherInsideATransactionArePartOfIt() throws {
        let pool = try makePostgresPool()
        let table = try pool.withConnection { try makeTicks($0) }
        struct Abort: Error {}
        XCTAssertThrowsError(try pool.transaction { tx in
            try tx.executeTogether([("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", [1, "EURUSD", Decimal(1), Date()])])
            XCTAssertEqual(try count(tx, table), 1, "visible inside the transaction")
            throw Abort()
        })
        XCTAssertEqual(try pool.withConnection { try count($0, table) }, 0, "rolled back with the transaction")
        XCTAssertEqual(try pool.executeTogether([]), [])
    }

    func testARefusedValueSendsNothingAndKeepsTheConnectionAndItsTransaction() throws {
        let pool = try makePostgresPool()
        let table = try pool.withConnection { try makeTicks($0) }
        try pool.transaction { tx in
            try tx.executeTogether([("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", [1, "EURUSD", Decimal(1), Date()])])
            // The second statement's value cannot be stored: refused before anything of it is sent.
            XCTAssertThrowsError(try tx.executeTogether([
                ("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", [2, "GBPUSD", Decimal(1), Date()]),
                ("INSERT INTO \(table) (id, instrument, bid, at) VALUES ($1, $2, $3, $4)", [3, "bad\u{0}name", Decimal(1), Date()]),
            ])) { error in
                XCTAssertEqual((error as? TMTError)?.code, .encoding, "\(error)")
                XCTAssertTrue("\(error)".contains("statement 2"), "\(error)")
            }
            XCTAssertTrue(tx.isConnected)
            XCTAssertEqual(tx.transactionState, .inTransaction, "the caller's transaction goes on")
        }
        XCTAssertEqual(try pool.withConnection { try count($0, table) }, 1, "the first insert committed, nothing of the refused group")
    }
}
