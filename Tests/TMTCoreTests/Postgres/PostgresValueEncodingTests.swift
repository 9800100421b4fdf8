import XCTest
@testable import TMTPostgres
import Foundation

final class PostgresValueEncodingTests: XCTestCase {
    private enum Side: String, PostgresEncodable, PostgresDecodable { case buy, sell }

    func testScalarsEncodeAsPostgresTextWithTheirTypes() {
        XCTAssertEqual(42.postgresValue, PostgresValue(type: .int8, text: "42"))
        XCTAssertEqual(Int32(-7).postgresValue, PostgresValue(type: .int4, text: "-7"))
        XCTAssertEqual(Int64.min.postgresValue, PostgresValue(type: .int8, text: "-9223372036854775808"))
        XCTAssertEqual(true.postgresValue, PostgresValue(type: .bool, text: "true"))
        XCTAssertEqual("héllo".postgresValue, PostgresValue(type: .text, text: "héllo"))
        XCTAssertEqual(0.1.postgresValue.text, "0.1")
        XCTAssertEqual(Double.infinity.postgresValue.text, "Infinity")
        XCTAssertEqual((-Double.infinity).postgresValue.text, "-Infinity")
        XCTAssertEqual(Double.nan.postgresValue.text, "NaN")
        XCTAssertEqual(Side.sell.postgresValue, PostgresValue(type: .text, text: "sell"))
    }

    func testDecimalIsSentDigitForDigit() throws {
        let d = try XCTUnwrap(Decimal(string: "12345678901234.123456789"))
        XCTAssertEqual(d.postgresValue, PostgresValue(type: .numeric, text: "12345678901234.123456789"))
        XCTAssertEqual(try XCTUnwrap(Decimal(string: "-0.000001")).postgresValue.text, "-0.000001")
        XCTAssertEqual(Decimal.nan.postgresValue.text, "NaN")
    }

    func testDateIsUTCWithMicroseconds() {
        let date = Date(timeIntervalSince1970: 1_767_323_045.123456)
        XCTAssertEqual(date.postgresValue, PostgresValue(type: .timestamptz, text: "2026-01-02 03:04:05.123456+00"))
        XCTAssertEqual(Date(timeIntervalSince1970: 0).postgresValue.text, "1970-01-01 00:00:00+00")
        XCTAssertEqual(Date(timeIntervalSince1970: -0.5).postgresValue.text, "1969-12-31 23:59:59.500000+00")
    }

    func testBytesAreHexSoZeroBytesSurvive() {
        let bytes: [UInt8] = [0x00, 0x01, 0xFF, 0x00, 0x5C]
        XCTAssertEqual(bytes.postgresValue, PostgresValue(type: .bytea, text: "\\x0001ff005c"))
        XCTAssertEqual(Data(bytes).postgresValue, PostgresValue(type: .bytea, text: "\\x0001ff005c"))
        XCTAssertEqual([UInt8]().postgresValue.text, "\\x")
    }

    func testUUIDIsLowercaseCanonical() throws {
        let id = try XCTUnwrap(UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
        XCTAssertEqual(id.postgresValue, PostgresValue(type: .uuid, text: "e621e1f8-c36c-495a-93fc-0c247a3e6e5f"))
    }

    func testNilIsNullOfTheWrappedType() {
        let none: Int? = nil
        XCTAssertEqual(none.postgresValue, PostgresValue(type: .int8, text: nil))
        let noBytes: [UInt8]? = nil
        XCTAssertEqual(noBytes.postgresValue.type, .bytea)
        XCTAssertTrue(PostgresValue.null.isNull)
    }

    func testArraysQuoteEveryElementSoNoTextChangesTheirShape() {
        let tricky: [String?] = ["plain", "with,comma", "{brace}", "quote\"and\\slash", "NULL", nil, ""]
        let value = tricky.postgresValue
        XCTAssertEqual(value.type, .textArray)
        XCTAssertEqual(value.text, #"{"plain","with,comma","{brace}","quote\"and\\slash","NULL",NULL,""}"#)
        XCTAssertEqual(PostgresTextFormat.parseArray(value.text!), tricky)
        XCTAssertEqual([1, 2, 3].postgresValue, PostgresValue(type: .int8Array, text: #"{"1","2","3"}"#))
        XCTAssertEqual([String]().postgresValue.text, "{}")
    }

    func testJSONIsJsonbAndDescriptionsNeverShowValues() throws {
        struct Order: Codable, Equatable { var id: Int; var note: String }
        let json = try PostgresJSON(encoding: Order(id: 1, note: "secret-note"))
        XCTAssertEqual(json.postgresValue, PostgresValue(type: .jsonb, text: #"{"id":1,"note":"secret-note"}"#))
        XCTAssertEqual(try json.decode(Order.self), Order(id: 1, note: "secret-note"))
        XCTAssertFalse(json.description.contains("secret-note"))
        XCTAssertFalse("secret-note".postgresValue.description.contains("secret-note"))
        XCTAssertFalse(String(reflecting: "secret-note".postgresValue).contains("secret-note"))
    }

    func testTimestampOutputParsesInEveryFormTheServerUses() throws {
        func parse(_ s: String) throws -> Double { try XCTUnwrap(PostgresTextFormat.parseTimestamp(s), s).timeIntervalSince1970 }
        XCTAssertEqual(try parse("2026-01-02 03:04:05.123456+00"), 1_767_323_045.123456, accuracy: 1e-7)
        XCTAssertEqual(try parse("2026-01-02 05:34:05.123456+02:30"), 1_767_323_045.123456, accuracy: 1e-7)
        XCTAssertEqual(try parse("2026-01-01 22:04:05-05"), 1_767_323_045, accuracy: 1e-7)
        XCTAssertEqual(try parse("2026-01-02 03:04:05"), 1_767_323_045, accuracy: 1e-7)
        XCTAssertEqual(try parse("2026-01-02"), 1_767_312_000, accuracy: 1e-7)
        XCTAssertEqual(try parse("1969-12-31 23:59:59.5+00"), -0.5, accuracy: 1e-7)
        XCTAssertEqual(PostgresTextFormat.parseTimestamp("infinity"), .distantFuture)
        XCTAssertNil(PostgresTextFormat.parseTimestamp("2026-13-01"))
        XCTAssertNil(PostgresTextFormat.parseTimestamp("yesterday"))
        XCTAssertNil(PostgresTextFormat.parseTimestamp("2026-01-02 03:04:05+00 junk"))
    }

    func testTimestampRoundTripsToTheMicrosecondAcrossEras() throws {
        for t in [-62_135_596_800.0, -1.000001, 0, 951_782_400.000001, 1_767_323_045.999999, 253_402_300_799.0] {
            let date = Date(timeIntervalSince1970: t)
            let text = try XCTUnwrap(PostgresTextFormat.timestamp(date))
            let back = try XCTUnwrap(PostgresTextFormat.parseTimestamp(text), text)
            XCTAssertEqual(back.timeIntervalSince1970, t, accuracy: 1e-6, text)
        }
        let bc = try XCTUnwrap(PostgresTextFormat.timestamp(Date(timeIntervalSince1970: -62_167_219_200)))
        XCTAssertEqual(bc, "0001-01-01 00:00:00+00 BC")
        XCTAssertEqual(PostgresTextFormat.parseTimestamp(bc)?.timeIntervalSince1970, -62_167_219_200)
    }

    func testCivilDateConversionIsExactOverCenturies() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (y, m, d) = PostgresTextFormat.civil(fromDays: days)
            XCTAssertEqual(PostgresTextFormat.days(fromCivil: y, m, d), days)
        }
        XCTAssertEqual(PostgresTextFormat.days(fromCivil: 2000, 3, 1), 11_017)
    }

    func testByteaParsesHexAndEscapeFormats() {
        XCTAssertEqual(PostgresTextFormat.parseBytea("\\x00ff10"), [0, 255, 16])
        XCTAssertEqual(PostgresTextFormat.parseBytea("a\\000\\\\b"), [0x61, 0, 0x5C, 0x62])
        XCTAssertNil(PostgresTextFormat.parseBytea("\\x0"))
        XCTAssertNil(PostgresTextFormat.parseBytea("\\xzz"))
    }

    func testArrayOutputWithUnquotedElementsAndBounds() {
        XCTAssertEqual(PostgresTextFormat.parseArray("{1,2,NULL,null}"), ["1", "2", nil, nil])
        XCTAssertEqual(PostgresTextFormat.parseArray("[0:1]={a,b}"), ["a", "b"])
        XCTAssertEqual(PostgresTextFormat.parseArray("{}"), [])
        XCTAssertNil(PostgresTextFormat.parseArray("{{1,2},{3,4}}"))
        XCTAssertNil(PostgresTextFormat.parseArray("{\"unterminated}"))
    }

    /// The fast numeric decoder gives the same value and the same spelling as the general path
    /// (canonical text through `Decimal(string:)`), and leaves what it cannot take exactly to it.
    func testFastDecimalMatchesTheGeneralPath() throws {
        func general(_ text: String) -> Decimal? {
            PostgresTextFormat.canonicalDecimal(text).flatMap { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX")) }
        }
        var rng = SystemRandomNumberGenerator()
        var cases = ["0", "0.000", "-0.00", "1", "100", "1000000", "1234.5600", "-1234.56", "0.0001", "100000.00", "-0.5",
                     "99999999999.9999999", "9999999999999999999", "0.1", "10.10", ".5", "-.25"]
        for _ in 0..<20_000 {
            let scale = Int.random(in: 0...10, using: &rng)
            var digits = String(UInt64.random(in: 0...999_999_999_999_999, using: &rng))
            while digits.count <= scale { digits = "0" + digits }
            if scale > 0 { digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale)) }
            cases.append(Bool.random(using: &rng) ? "-" + digits : digits)
        }
        for text in cases {
            let fast = try XCTUnwrap(fastDecimal(text), text)
            let reference = try XCTUnwrap(general(text), text)
            XCTAssertEqual(fast, reference, text)
            XCTAssertEqual(fast.description, reference.description, text)
            XCTAssertEqual((fast / 7).description, (reference / 7).description, text)
            XCTAssertEqual(try Decimal.decodePostgres(text: text, type: .numeric), reference, text)
        }
        // More than 19 significant digits, exponents and junk are not the fast path's.
        for text in ["12345678901234567890", "1e5", "1.2.3", "", "-", "12a", "Infinity"] { XCTAssertNil(fastDecimal(text), text) }
        XCTAssertEqual(try Decimal.decodePostgres(text: "12345678901234567890.5", type: .numeric)?.description, "12345678901234567890.5")
    }

    func testCanonicalDecimalComparesNumbersNotSpellings() {
        XCTAssertEqual(PostgresTextFormat.canonicalDecimal("-0012.3400"), "-12.34")
        XCTAssertEqual(PostgresTextFormat.canonicalDecimal("0.000"), "0")
        XCTAssertEqual(PostgresTextFormat.canonicalDecimal("-0"), "0")
        XCTAssertEqual(PostgresTextFormat.canonicalDecimal(".5"), "0.5")
        XCTAssertNil(PostgresTextFormat.canonicalDecimal("1e5"))
        XCTAssertNil(PostgresTextFormat.canonicalDecimal("12a"))
    }
}
