import Foundation
import TMTCore
import XCTest

/// Every supported type through a real PostgreSQL table and back, plus the safety properties of
/// parameters and errors.
final class PostgresRoundTripIntegrationTests: XCTestCase {
    private func makeTypesTable(_ conn: PostgresConnection) throws -> String {
        let table = try postgresTableName("types")
        try conn.execute("""
            CREATE TABLE \(table) (
                id int8 PRIMARY KEY, i4 int4, f8 float8, flag bool, note text, amount numeric,
                at timestamptz, ref uuid, blob bytea, doc jsonb, tags text[], ids int8[]
            )
            """)
        return table
    }

    func testEveryTypeRoundTripsThroughARealTable() throws {
        let conn = try makePostgresConnection()
        let table = try makeTypesTable(conn)
        let amount = try XCTUnwrap(Decimal(string: "12345678901234.123456789"))
        let at = Date(timeIntervalSince1970: 1_767_323_045.123456)
        let ref = UUID()
        let blob: [UInt8] = (0...255).map { UInt8($0) } + [0, 0, 0]
        let note = "héllo wörld 🚀 — 日本語 \\ ' \" \t\n end"
        let tags: [String?] = ["a,b", "{x}", "quote\"", "back\\slash", "NULL", nil, "", "日本"]
        let doc = try PostgresJSON(encoding: ["k": [1, 2, 3]])

        let inserted = try conn.execute("""
            INSERT INTO \(table) (id, i4, f8, flag, note, amount, at, ref, blob, doc, tags, ids)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """, [1, Int32(-2_000_000_000), 0.1 + 0.2, true, note, amount, at, ref, blob, doc, tags, [Int.max, Int.min, 0]])
        XCTAssertEqual(inserted, 1)

        let row = try XCTUnwrap(conn.queryOne("SELECT * FROM \(table) WHERE id = $1", [1]))
        XCTAssertEqual(try row.decode(Int32.self, column: "i4"), -2_000_000_000)
        XCTAssertEqual(try row.decode(Double.self, column: "f8"), 0.1 + 0.2, "float8 keeps every bit (shortest exact output)")
        XCTAssertEqual(try row.decode(Bool.self, column: "flag"), true)
        XCTAssertEqual(try row.decode(String.self, column: "note"), note)
        XCTAssertEqual(try row.decode(Decimal.self, column: "amount"), amount)
        XCTAssertEqual(try row.decode(Date.self, column: "at").timeIntervalSince1970, at.timeIntervalSince1970, accuracy: 0.000_000_5)
        XCTAssertEqual(try row.decode(UUID.self, column: "ref"), ref)
        XCTAssertEqual(try row.decode([UInt8].self, column: "blob"), blob)
        XCTAssertEqual(try row.decode(Data.self, column: "blob"), Data(blob))
        XCTAssertEqual(try row.decodeJSON([String: [Int]].self, column: "doc"), ["k": [1, 2, 3]])
        XCTAssertEqual(try row.decode([String?].self, column: "tags"), tags)
        XCTAssertEqual(try row.decode([Int].self, column: "ids"), [Int.max, Int.min, 0])

        // What the server itself stored, not just what came back.
        let check = try XCTUnwrap(conn.queryOne("""
            SELECT amount::text AS amount_text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at_text,
                   octet_length(blob) AS blob_length, get_byte(blob, 0) AS first_byte, doc->'k'->>2 AS third,
                   array_length(tags, 1) AS tag_count, tags[6] IS NULL AS sixth_is_null, length(note) AS note_length
            FROM \(table) WHERE id = $1
            """, [1]))
        XCTAssertEqual(try check.decode(String.self, column: "amount_text"), "12345678901234.123456789")
        XCTAssertEqual(try check.decode(String.self, column: "at_text"), "2026-01-02 03:04:05.123456")
        XCTAssertEqual(try check.decode(Int.self, column: "blob_length"), 259)
        XCTAssertEqual(try check.decode(Int.self, column: "first_byte"), 0)
        XCTAssertEqual(try check.decode(String.self, column: "third"), "3")
        XCTAssertEqual(try check.decode(Int.self, column: "tag_count"), 8)
        XCTAssertEqual(try check.decode(Bool.self, column: "sixth_is_null"), true)
        XCTAssertEqual(try check.decode(Int.self, column: "note_length"), note.unicodeScalars.count)
    }

    func testNullsRoundTripForEveryTypeAndNeedOptionals() throws {
        let conn = try makePostgresConnection()
        let table = try makeTypesTable(conn)
        let noInt: Int32? = nil, noDouble: Double? = nil, noBool: Bool? = nil, noText: String? = nil
        let noDecimal: Decimal? = nil, noDate: Date? = nil, noUUID: UUID? = nil, noBytes: [UInt8]? = nil
        let noJSON: PostgresJSON? = nil, noTags: [String]? = nil, noIDs: [Int]? = nil
        try conn.execute("""
            INSERT INTO \(table) (id, i4, f8, flag, note, amount, at, ref, blob, doc, tags, ids)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """, [2, noInt, noDouble, noBool, noText, noDecimal, noDate, noUUID, noBytes, noJSON, noTags, noIDs])
        let row = try XCTUnwrap(conn.queryOne("SELECT * FROM \(table) WHERE id = $1", [2]))
        XCTAssertNil(try row.decode(Int32?.self, column: "i4"))
        XCTAssertNil(try row.decode(Double?.self, column: "f8"))
        XCTAssertNil(try row.decode(Bool?.self, column: "flag"))
        XCTAssertNil(try row.decode(String?.self, column: "note"))
        XCTAssertNil(try row.decode(Decimal?.self, column: "amount"))
        XCTAssertNil(try row.decode(Date?.self, column: "at"))
        XCTAssertNil(try row.decode(UUID?.self, column: "ref"))
        XCTAssertNil(try row.decode([UInt8]?.self, column: "blob"))
        XCTAssertNil(try row.decode(PostgresJSON?.self, column: "doc"))
        XCTAssertNil(try row.decode([String]?.self, column: "tags"))
        XCTAssertNil(try row.decode([Int]?.self, column: "ids"))
        XCTAssertThrowsError(try row.decode(Decimal.self, column: "amount")) { error in
            XCTAssertEqual((error as? TMTError)?.message, "column 'amount': expected numeric, got NULL")
        }
    }

    func testDecimalArithmeticIsExactOnTheServer() throws {
        let conn = try makePostgresConnection()
        let a = try XCTUnwrap(Decimal(string: "12345678901234.123456789"))
        let b = try XCTUnwrap(Decimal(string: "0.000000001"))
        let row = try XCTUnwrap(conn.queryOne("SELECT $1 + $2 AS sum, $1 * 3 AS triple", [a, b]))
        XCTAssertEqual(try row.decode(Decimal.self, column: "sum"), Decimal(string: "12345678901234.123456790"))
        XCTAssertEqual(try row.decode(Decimal.self, column: "triple"), Decimal(string: "37037036703702.370370367"))
    }

    func testAWrappedArrayIsOneParameterForAny() throws {
        let conn = try makePostgresConnection()
        let ids = [2, 4, 99]
        let row = try conn.queryOne("SELECT count(*) AS n FROM generate_series(1, 10) AS g WHERE g = ANY($1)", [ids])
        XCTAssertEqual(try row?.decode(Int.self, column: "n"), 2)
        let names: [String] = ["EURUSD", "USDJPY"]
        let joined = try conn.queryOne("SELECT array_to_string($1, '|') AS s, $2::text AS untyped", [names, PostgresValue.null])
        XCTAssertEqual(try joined?.decode(String.self, column: "s"), "EURUSD|USDJPY")
        XCTAssertNil(try joined?.decode(String?.self, column: "untyped"))
    }

    func testInjectionAttemptStaysData() throws {
        let conn = try makePostgresConnection()
        let table = try postgresTableName("victim")
        try conn.execute("CREATE TABLE \(table) (name text NOT NULL)")
        let attack = "'); DROP TABLE \(table); --"
        try conn.execute("INSERT INTO \(table) (name) VALUES ($1)", [attack])
        try conn.execute("INSERT INTO \(table) (name) VALUES ($1)", [attack], prepared: true)

        XCTAssertEqual(try conn.query("SELECT name FROM \(table)").map { try $0.decode(String.self, column: "name") }, [attack, attack])
        let matches = try conn.queryOne("SELECT count(*) AS n FROM \(table) WHERE name = $1", ["' OR '1'='1"])
        XCTAssertEqual(try matches?.decode(Int.self, column: "n"), 0, "a tautology in a parameter matches nothing")
        let exists = try conn.queryOne("SELECT to_regclass($1) IS NOT NULL AS present", [table])
        XCTAssertEqual(try exists?.decode(Bool.self, column: "present"), true, "the table survived")
    }

    func testStackedStatementsAreRefused() throws {
        let conn = try makePostgresConnection()
        let table = try postgresTableName("stacked")
        try conn.execute("CREATE TABLE \(table) (id int)")
        XCTAssertThrowsError(try conn.execute("INSERT INTO \(table) VALUES (1); DROP TABLE \(table)")) { error in
            XCTAssertEqual((error as? TMTError)?.sqlState, "42601", String(reflecting: error))
        }
        XCTAssertEqual(try conn.queryOne("SELECT count(*) AS n FROM \(table)")?.decode(Int.self, column: "n"), 0)
    }

    func testUniqueViolationIsDetectableAndItsErrorHidesTheValue() throws {
        let conn = try makePostgresConnection()
        let table = try postgresTableName("keys")
        try conn.execute("CREATE TABLE \(table) (api_key text PRIMARY KEY)")
        let secret = "sk_live_Zx81Ke7Secret"
        try conn.execute("INSERT INTO \(table) (api_key) VALUES ($1)", [secret])
        XCTAssertThrowsError(try conn.execute("INSERT INTO \(table) (api_key) VALUES ($1)", [secret])) { error in
            guard let e = error as? TMTError else { return XCTFail("\(error)") }
            XCTAssertTrue(e.isUniqueViolation)
            XCTAssertEqual(e.sqlState, PostgresSQLState.uniqueViolation)
            XCTAssertTrue(e.message.contains("\(table)_pkey"), e.message)
            for text in [e.message, e.description, String(reflecting: e), "\(error)"] {
                XCTAssertFalse(text.contains(secret), text)
            }
        }
        // A parameter that the server cannot parse is quoted by the server's primary message:
        // it may reach `detail` (debug only) but never the message.
        XCTAssertThrowsError(try conn.query("SELECT $1::int AS n", ["tok_Q9secret"])) { error in
            guard let e = error as? TMTError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.sqlState, "22P02")
            XCTAssertFalse(e.message.contains("tok_Q9secret"), e.message)
            XCTAssertFalse(e.description.contains("tok_Q9secret"), e.description)
        }
        XCTAssertEqual(conn.transactionState, .idle, "the connection is usable after errors")
        XCTAssertEqual(try conn.queryOne("SELECT 1 AS one")?.decode(Int.self, column: "one"), 1)
    }

    func testWrongPasswordFailsWithoutRevealingIt() throws {
        XCTAssertThrowsError(try makePostgresConnection { $0.password = "wrong-Pa55word-xyz" }) { error in
            guard let e = error as? TMTError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.code, .connection)
            XCTAssertTrue(e.message.contains("password authentication failed"), e.message)
            for text in [e.message, String(reflecting: e)] { XCTAssertFalse(text.contains("wrong-Pa55word-xyz"), text) }
        }
    }

    func testStatementTimeoutFailsAsTimeoutAndTheConnectionRecovers() throws {
        let conn = try makePostgresConnection { $0.statementTimeout = 0.2 }
        let start = Date()
        XCTAssertThrowsError(try conn.query("SELECT pg_sleep(5)")) { error in
            XCTAssertEqual((error as? TMTError)?.code, .timeout, "\(error)")
            XCTAssertEqual((error as? TMTError)?.sqlState, "57014")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 4)
        XCTAssertEqual(try conn.queryOne("SELECT 2 AS two")?.decode(Int.self, column: "two"), 2)
    }

    func testNULInTextIsRefusedNamingOnlyTheParameter() throws {
        let conn = try makePostgresConnection()
        XCTAssertThrowsError(try conn.query("SELECT $1 || $2 AS s", ["ok", "bad\u{0}secretpart"])) { error in
            let e = error as? TMTError
            XCTAssertEqual(e?.code, .encoding)
            XCTAssertTrue(e?.message.contains("$2") ?? false, "\(error)")
            XCTAssertFalse(String(reflecting: error).contains("secretpart"))
        }
    }

    func testPreparedStatementsAreCachedAndSurviveATableChange() throws {
        let conn = try makePostgresConnection()
        let table = try postgresTableName("prep")
        try conn.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY, v text)")
        for i in 0..<50 {
            try conn.execute("INSERT INTO \(table) (id, v) VALUES ($1, $2)", [i, "v\(i)"], prepared: true)
        }
        let statements = try conn.queryOne("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1", ["INSERT INTO \(table)%"])
        XCTAssertEqual(try statements?.decode(Int.self, column: "n"), 1, "one server-side statement for 50 executions")

        let before = try conn.query("SELECT * FROM \(table) WHERE id = $1", [7], prepared: true)
        XCTAssertEqual(before.first?.columnNames, ["id", "v"])
        try conn.execute("ALTER TABLE \(table) ADD COLUMN extra int DEFAULT 5")
        let after = try conn.query("SELECT * FROM \(table) WHERE id = $1", [7], prepared: true)
        XCTAssertEqual(after.first?.columnNames, ["id", "v", "extra"])
        XCTAssertEqual(try after.first?.decode(Int.self, column: "extra"), 5)
    }

    func testMetricsCountStatementsAndErrorsByCode() throws {
        let metrics = MetricsRegistry()
        let conn = try makePostgresConnection(metrics: metrics)
        let database = conn.configuration.database
        _ = try conn.query("SELECT 1")
        _ = try? conn.query("SELECT * FROM tmt_no_such_table_here")
        XCTAssertEqual(metricValue(metrics, "tmt_db_query_duration_seconds_count{pool=\"\(database)\",operation=\"query\"}"), 2)
        XCTAssertEqual(metricValue(metrics, "tmt_db_query_duration_seconds_count{pool=\"\(database)\",operation=\"connect\"}"), 1)
        XCTAssertEqual(metricValue(metrics, "tmt_db_errors_total{pool=\"\(database)\",code=\"42P01\"}"), 1)
    }
}
