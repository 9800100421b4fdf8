import Foundation
import TMTCore
import XCTest

/// The blocking client against a real `HTTPServer`.
final class HTTPClientTests: XCTestCase {
    static func router() -> HTTPRouter {
        var r = HTTPRouter()
        r.get("/health") { req in
            var resp = HTTPResponse.text("ok \(req.headers["X-Probe"] ?? "-")")
            resp.headers["X-Served-By"] = "test"
            return resp
        }
        r.post("/echo") { req in .bytes(req.body, contentType: req.headers["Content-Type"] ?? "application/octet-stream") }
        r.get("/sleep") { _ in
            Thread.sleep(forTimeInterval: 2)
            return .text("late")
        }
        r.get("/stream") { _ in .eventStream { w in for i in 0..<3 { try w.sendEvent("\(i)") } } }
        r.get("/nothing") { _ in .noContent }
        return r
    }

    func testGetReturnsStatusHeadersAndBody() throws {
        let s = try TestHTTPServer(Self.router())
        let r = try HTTPClient().get("\(s.baseURL)/health", headers: ["X-Probe": "p1"])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.headers["x-served-by"], "test")
        XCTAssertEqual(r.text, "ok p1")
    }

    func testPostSendsTheBody() throws {
        let s = try TestHTTPServer(Self.router())
        let payload = [UInt8]((0..<200_000).map { UInt8(truncatingIfNeeded: $0) })
        let r = try HTTPClient().post("\(s.baseURL)/echo", body: payload, contentType: "application/octet-stream")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body, payload)
    }

    func testChunkedAndEmptyBodiesAreRead() throws {
        let s = try TestHTTPServer(Self.router())
        let stream = try HTTPClient().get("\(s.baseURL)/stream")
        XCTAssertEqual(stream.text, "data: 0\n\ndata: 1\n\ndata: 2\n\n")
        let empty = try HTTPClient().get("\(s.baseURL)/nothing")
        XCTAssertEqual(empty.status, 204)
        XCTAssertTrue(empty.body.isEmpty)
    }

    func testSlowServerTimesOut() throws {
        let s = try TestHTTPServer(Self.router())
        let started = Date()
        XCTAssertThrowsError(try HTTPClient(timeout: 0.3).get("\(s.baseURL)/sleep?token=secret")) { error in
            XCTAssertEqual((error as? TMTError)?.code, .timeout)
            XCTAssertFalse("\(error)".contains("secret"), "query values must not appear in errors: \(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "the deadline bounds the whole call")
    }

    func testRefusedConnectionIsAConnectionError() throws {
        let s = try TestHTTPServer(Self.router())
        let port = s.port
        s.server.shutdown()
        XCTAssertThrowsError(try HTTPClient(timeout: 1).get("http://127.0.0.1:\(port)/health")) { error in
            XCTAssertEqual((error as? TMTError)?.code, .connection)
        }
    }

    func testUnsupportedURLsAreRejected() {
        XCTAssertThrowsError(try HTTPClient().get("https://example.com/")) { XCTAssertEqual(($0 as? TMTError)?.code, .invalidArgument) }
        XCTAssertThrowsError(try HTTPClient().get("http://host:99999/")) { XCTAssertEqual(($0 as? TMTError)?.code, .invalidArgument) }
        XCTAssertThrowsError(try HTTPClient().get("http:///path")) { XCTAssertEqual(($0 as? TMTError)?.code, .invalidArgument) }
    }
}
