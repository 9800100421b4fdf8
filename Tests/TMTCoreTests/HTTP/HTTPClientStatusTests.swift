import Foundation
@testable import TMTHTTP
import XCTest

/// The client's status line: a status outside 100–599 is a malformed answer, never a number the
/// caller turns into an `HTTPStatus` (whose initializer stops the process for such codes: a
/// gateway forwarding an agent's answer went down on "HTTP/1.1 000").
final class HTTPClientStatusTests: XCTestCase {
    private func parse(_ statusLine: String) throws -> HTTPClientResponse? {
        try HTTPClient.ResponseParser.parse(Array("\(statusLine)\r\nContent-Length: 2\r\n\r\n{}".utf8), eof: true, headRequest: false,
                                            what: "GET http://127.0.0.1/x")
    }

    func testStatusesOutsideTheHTTPRangeAreMalformed() throws {
        XCTAssertEqual(try parse("HTTP/1.1 200 OK")?.status, 200)
        XCTAssertEqual(try parse("HTTP/1.1 599 Odd")?.status, 599)
        for bad in ["HTTP/1.1 000 Zero", "HTTP/1.1 -10 Negative", "HTTP/1.1 600 Beyond", "HTTP/1.1 099 Low", "HTTP/1.1 +20 Signed"] {
            XCTAssertThrowsError(try parse(bad), bad) { error in
                XCTAssertTrue("\(error)".contains("malformed status line"), "\(bad): \(error)")
            }
        }
    }
}
