import XCTest
@testable import TMTPostgres
import TMTBase
import Foundation

final class PostgresRowDecodingTests: XCTestCase {
    private enum Side: String, PostgresEncodable, PostgresDecodable { case buy, sell }

    private func row(_ pairs: [(String, String?, PostgresDataType)]) -> PostgresRow {
        PostgresRow(columnNames: pairs.map(\.0), values: pairs.map(\.1), types: pairs.map(\.2))
    }

    private func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as TMTError { return e.message } catch { return "\(error)" }
    }

    func testColumnsDecodeByNameAndByIndex() throws {
        let r = row([
            ("id", "42", .int8), ("balance", "12345678901234.123456789", .numeric), ("active", "t", .bool),
            ("side", "sell", .text), ("opened", "2026-01-02 03:04:05.123456+00", .timestamptz),
            ("ref", "e621e1f8-c36c-495a-93fc-0c247a3e6e5f", .uuid), ("blob", "\\x00ff", .bytea),
            ("tags", #"{"a b",NULL}"#, .textArray), ("ratio", "0.25", .float8),
        ])
        XCTAssertEqual(try r.decode(Int.self, column: "id"), 42)
        XCTAssertEqual(try r.decode(Int32.self, at: 0), 42)
        XCTAssertEqual(try r.decode(Decimal.self, column: "balance"), Decimal(string: "12345678901234.123456789"))
        XCTAssertEqual(try r.decode(Bool.self, column: "active"), true)
        XCTAssertEqual(try r.decode(Side.self, column: "side"), .sell)
        XCTAssertEqual(try r.decode(Date.self, column: "opened").timeIntervalSince1970, 1_767_323_045.123456, accuracy: 1e-6)
        XCTAssertEqual(try r.decode(UUID.self, column: "ref"), UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
        XCTAssertEqual(try r.decode([UInt8].self, column: "blob"), [0, 255])
        XCTAssertEqual(try r.decode(Data.self, column: "blob"), Data([0, 255]))
        XCTAssertEqual(try r.decode([String?].self, column: "tags"), ["a b", nil])
        XCTAssertEqual(try r.decode(Double.self, column: "ratio"), 0.25)
        XCTAssertEqual(r.columnNames.count, 9)
    }

    func testNullIntoANonOptionalNamesColumnAndType() throws {
        let r = row([("balance", nil, .numeric)])
        XCTAssertEqual(message { _ = try r.decode(Decimal.self, column: "balance") }, "column 'balance': expected numeric, got NULL")
        XCTAssertNil(try r.decode(Decimal?.self, column: "balance"))
        XCTAssertTrue(try r.isNull(column: "balance"))
    }

    func testWrongTypeNamesBothTypesButNeverTheValue() {
        let r = row([("note", "s3cret-token", .text), ("amount", "12.50", .numeric), ("big", "99999999999", .int8)])
        let wrong = message { _ = try r.decode(Int.self, column: "note") }
        XCTAssertEqual(wrong, "column 'note': expected int8, got text")
        XCTAssertEqual(message { _ = try r.decode(Int.self, column: "amount") }, "column 'amount': expected int8, got numeric: numeric value is not a whole number")
        XCTAssertEqual(message { _ = try r.decode(Int32.self, column: "big") }, "column 'big': expected int4, got int8: value out of range for Int32")
        for m in [message { _ = try r.decode(UUID.self, column: "note") }, message { _ = try r.decode(Date.self, column: "note") },
                  message { _ = try r.decode(Side.self, column: "note") }, message { _ = try r.decode(Decimal.self, column: "note") }] {
            XCTAssertNotNil(m)
            XCTAssertFalse(m?.contains("s3cret") ?? true, m ?? "")
        }
    }

    func testWholeNumericDecodesIntoInt() throws {
        let r = row([("total", "1200.000", .numeric), ("sum", "-7", .numeric)])
        XCTAssertEqual(try r.decode(Int.self, column: "total"), 1200)
        XCTAssertEqual(try r.decode(Int.self, column: "sum"), -7)
    }

    func testDecimalRefusesToRoundAValueItCannotHold() {
        let r = row([("huge", "123456789012345678901234567890123456789012.5", .numeric)])
        XCTAssertEqual(message { _ = try r.decode(Decimal.self, column: "huge") },
                       "column 'huge': expected numeric, got numeric: more significant digits than Decimal holds exactly (38)")
    }

    func testUnknownColumnAndIndexAreClear() {
        let r = row([("a", "1", .int8), ("b", "2", .int8)])
        XCTAssertEqual(message { _ = try r.decode(Int.self, column: "c") }, "no column 'c' in the result (columns: a, b)")
        XCTAssertEqual(message { _ = try r.decode(Int.self, at: 5) }, "column index 5 is out of range (the result has 2 columns)")
    }

    func testArrayWithNullIntoNonOptionalElementsFails() {
        let r = row([("ids", "{1,NULL}", .int8Array)])
        XCTAssertEqual(message { _ = try r.decode([Int].self, column: "ids") },
                       "column 'ids': expected int8[], got int8[]: element 2 is NULL; decode an array of optionals")
        XCTAssertEqual(try r.decode([Int?].self, column: "ids"), [1, nil])
    }

    func testJSONColumnDecodesIntoCodable() throws {
        struct Payload: Decodable, Equatable { var k: [Int] }
        let r = row([("doc", #"{"k": [1, 2]}"#, .jsonb)])
        XCTAssertEqual(try r.decodeJSON(Payload.self, column: "doc"), Payload(k: [1, 2]))
        XCTAssertEqual(try r.decode(PostgresJSON.self, column: "doc").text, #"{"k": [1, 2]}"#)
    }
}
