import XCTest
@testable import TMTPostgres
import TMTBase

final class PostgresErrorHygieneTests: XCTestCase {
    func testUniqueViolationNamesConstraintAndCodeButNotTheKey() {
        let server = PostgresServerError(
            sqlState: "23505", primary: #"duplicate key value violates unique constraint "accounts_pkey""#,
            schema: "public", table: "accounts", constraint: "accounts_pkey")
        let e = server.error(operation: "execute", connectionLost: false, password: nil)
        XCTAssertEqual(e.code, .query)
        XCTAssertEqual(e.message, "execute failed: unique_violation (SQLSTATE 23505) on table 'public.accounts', constraint 'accounts_pkey'")
        XCTAssertEqual(e.sqlState, "23505")
        XCTAssertTrue(e.isUniqueViolation)
        XCTAssertFalse(e.isRetryableTransactionFailure)
    }

    func testValueQuotingMessagesStayOutOfTheMessage() {
        let server = PostgresServerError(sqlState: "22P02", primary: #"invalid input syntax for type integer: "tok_live_abc123""#)
        let e = server.error(operation: "query", connectionLost: false, password: nil)
        XCTAssertFalse(e.message.contains("tok_live_abc123"), e.message)
        XCTAssertFalse(e.description.contains("tok_live_abc123"), e.description)
        XCTAssertEqual(e.message, "query failed: invalid_text_representation (SQLSTATE 22P02)")
        XCTAssertEqual(e.sqlState, "22P02")
    }

    func testRaiseExceptionTextIsNotTrusted() {
        let e = PostgresServerError(sqlState: "P0001", primary: "user 7 has card 4111111111111111")
            .error(operation: "execute", connectionLost: false, password: nil)
        XCTAssertFalse(e.message.contains("4111"), e.message)
    }

    func testSQLTextErrorsKeepTheServerExplanation() {
        let e = PostgresServerError(sqlState: "42P01", primary: #"relation "ordrs" does not exist"#)
            .error(operation: "query", connectionLost: false, password: nil)
        XCTAssertEqual(e.message, #"query failed: undefined_table (SQLSTATE 42P01): relation "ordrs" does not exist"#)
    }

    func testPasswordIsScrubbedEverywhere() {
        let e = PostgresServerError(sqlState: "28P01", primary: "password authentication failed for user \"u\" using pw-Zebra99", hint: "pw-Zebra99?")
            .error(operation: "connect", connectionLost: false, password: "pw-Zebra99")
        XCTAssertFalse(e.message.contains("pw-Zebra99"), e.message)
        XCTAssertFalse(String(reflecting: e).contains("pw-Zebra99"), String(reflecting: e))
    }

    func testStatementTimeoutIsATimeoutAndLostConnectionIsAConnectionError() {
        let timeout = PostgresServerError(sqlState: "57014", primary: "canceling statement due to statement timeout")
            .error(operation: "query", connectionLost: false, password: nil)
        XCTAssertEqual(timeout.code, .timeout)
        XCTAssertTrue(timeout.message.contains("statement timeout"), timeout.message)

        let lost = PostgresServerError(sqlState: "57P01", primary: "terminating connection due to administrator command")
            .error(operation: "execute", connectionLost: true, password: nil)
        XCTAssertEqual(lost.code, .connection)
        XCTAssertTrue(lost.message.contains("may or may not have been applied"), lost.message)
        XCTAssertEqual(lost.sqlState, "57P01")
    }

    func testSerializationFailuresAreRetryable() {
        for code in ["40001", "40P01"] {
            let e = PostgresServerError(sqlState: code, primary: "could not serialize access").error(operation: "COMMIT", connectionLost: false, password: nil)
            XCTAssertTrue(e.isRetryableTransactionFailure, code)
        }
    }

    func testNonPostgresErrorsHaveNoSQLState() {
        XCTAssertNil(TMTError(.query, "x").sqlState)
        XCTAssertNil(TMTError(.query, "x", detail: "SQLSTATE nope").sqlState)
        XCTAssertEqual(PostgresSQLState.conditionName("23999"), "integrity_constraint_violation")
        XCTAssertEqual(PostgresSQLState.conditionName("40P01"), "deadlock_detected")
    }

    func testSHA256MatchesPublishedVectors() {
        XCTAssertEqual(SHA256.hex(Array("".utf8)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let boundaries: [Int: String] = [
            55: "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072",
            56: "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e",
            64: "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c",
            1000: "44f8354494a5ba03ba1792a8d3e9c534c47a9181980fde7a3f44b06ef2ae7c7f",
        ]
        for (n, digest) in boundaries {
            XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "x"), count: n)), digest, "length \(n)")
        }
    }
}
