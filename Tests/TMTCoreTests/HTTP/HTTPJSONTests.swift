import Foundation
import TMTCore
import XCTest

/// The shared JSON conventions of the HTTP APIs.
final class HTTPJSONTests: XCTestCase {
    private struct Stamped: Codable, Equatable {
        var at: Date
        var name: String
    }

    func testDatesAreRFC3339WithMillisecondsAndKeysAreSorted() throws {
        let value = Stamped(at: Date(timeIntervalSince1970: 1_800_000_000.123), name: "a/b")
        let text = String(decoding: try HTTPJSON.encode(value), as: UTF8.self)
        XCTAssertEqual(text, #"{"at":"2027-01-15T08:00:00.123Z","name":"a/b"}"#)
    }

    func testDatesDecodeWithAndWithoutFraction() throws {
        let withFraction = try HTTPJSON.decode(Stamped.self, from: Array(#"{"at":"2027-01-15T08:00:00.250Z","name":"x"}"#.utf8))
        XCTAssertEqual(withFraction.at.timeIntervalSince1970, 1_800_000_000.25, accuracy: 0.0005)
        let plain = try HTTPJSON.decode(Stamped.self, from: Array(#"{"at":"2027-01-15T08:00:00Z","name":"x"}"#.utf8))
        XCTAssertEqual(plain.at.timeIntervalSince1970, 1_800_000_000, accuracy: 0.0005)
        XCTAssertThrowsError(try HTTPJSON.decode(Stamped.self, from: Array(#"{"at":"yesterday","name":"x"}"#.utf8))) { error in
            let e = error as? HTTPError
            XCTAssertEqual(e?.status, .badRequest)
            XCTAssertEqual(e?.message, "field 'at': invalid value")
        }
    }

    func testErrorResponseBodyIsEscapedJSON() throws {
        let r = HTTPResponse.error(status: .badRequest, code: "bad", message: "quote \" backslash \\ newline \n tab \t")
        let obj = try JSONSerialization.jsonObject(with: Data(r.bodyBytes)) as? [String: [String: String]]
        XCTAssertEqual(obj?["error"]?["message"], "quote \" backslash \\ newline \n tab \t")
        XCTAssertEqual(obj?["error"]?["code"], "bad")
        XCTAssertEqual(r.headers["Content-Type"], "application/json")
    }
}
