import Foundation
import Synchronization
import TMTCore
import XCTest

/// The STYLE.md HTTP/1.1 checklist, item by item, against a real server on 127.0.0.1 with raw
/// bytes on the wire.
final class HTTPServerChecklistTests: XCTestCase {
    static func router() -> HTTPRouter {
        var r = HTTPRouter()
        r.get("/health") { _ in .text("ok") }
        r.post("/echo") { req in .bytes(req.body, contentType: "application/octet-stream") }
        r.post("/small", maxBodyBytes: 16) { req in .bytes(req.body, contentType: "application/octet-stream") }
        r.get("/query") { req in .text(req.queryValue("n") ?? "-") }
        r.get("/evil") { _ in
            var resp = HTTPResponse.text("evil")
            resp.headers.add("X-Evil", "a\r\nInjected: yes\u{0}z")
            resp.headers.add("Bad Name", "x")
            resp.headers.add("X-Split\r\nInjected2", "y")
            resp.headers.add("Content-Length", "999")
            resp.headers.add("Transfer-Encoding", "chunked")
            return resp
        }
        r.get("/big") { _ in .bytes([UInt8](repeating: 0x61, count: 8 * 1024 * 1024), contentType: "text/plain") }
        return r
    }

    private func start(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws -> TestHTTPServer {
        try TestHTTPServer(Self.router(), configure: configure)
    }

    /// A rejected request: the status, `Connection: close`, a JSON error body, then the server closes.
    private func assertRejected(_ server: TestHTTPServer, _ raw: String, status: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let c = try server.connect()
        c.send(raw)
        guard let r = c.readResponse() else {
            return XCTFail("no response to \(raw.debugDescription.prefix(120))", file: file, line: line)
        }
        XCTAssertEqual(r.status, status, "for \(raw.debugDescription.prefix(120)): \(r.text)", file: file, line: line)
        XCTAssertEqual(r.header("Connection"), "close", file: file, line: line)
        XCTAssertNotNil(r.errorCode, "error body should be JSON {\"error\":{…}}: \(r.text)", file: file, line: line)
        XCTAssertTrue(c.waitForClose(timeout: 5), "server should close after a \(status)", file: file, line: line)
    }

    // MARK: Smuggling vectors

    func testContentLengthTogetherWithTransferEncodingIsRejected() throws {
        let s = try start()
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400)
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", status: 400)
    }

    func testTransferEncodingAloneIsRejectedAsNotImplemented() throws {
        let s = try start()
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", status: 501)
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501)
    }

    func testDuplicateContentLengthIsRejectedEvenWithTheSameValue() throws {
        let s = try start()
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", status: 400)
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", status: 400)
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", status: 400)
    }

    func testMalformedContentLengthIsRejected() throws {
        let s = try start()
        for value in ["+5", "-5", "5 5", "0x5", "5a", "abc", "5.0", "99999999999999999999999999", ""] {
            try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(value)\r\n\r\nhello", status: 400)
        }
    }

    func testValidContentLengthWithSurroundingSpacesIsAccepted() throws {
        let s = try start()
        let r = try s.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length:   5  \r\n\r\nhello")
        XCTAssertEqual(r?.status, 200)
        XCTAssertEqual(r?.text, "hello")
    }

    // MARK: Size limits

    func testOversizeRequestLineGets414() throws {
        let s = try start()
        try assertRejected(s, "GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: x\r\n\r\n", status: 414)
    }

    func testOversizeRequestLineIsRefusedBeforeItEnds() throws {
        let s = try start()
        let c = try s.connect()
        c.send("GET /\(String(repeating: "a", count: 9000))")
        let r = c.readResponse()
        XCTAssertEqual(r?.status, 414, "the server should not wait for the end of an oversize line")
    }

    func testOversizeHeaderSectionGets431() throws {
        let s = try start()
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 81 * 1024))\r\n\r\n", status: 431)
    }

    func testTooManyHeaderFieldsGets431() throws {
        let s = try start()
        let headers = (0..<101).map { "X-H\($0): v\r\n" }.joined()
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\n\(headers)\r\n", status: 431)
        let fewer = (0..<98).map { "X-H\($0): v\r\n" }.joined()
        XCTAssertEqual(try s.exchange("GET /health HTTP/1.1\r\nHost: x\r\n\(fewer)\r\n")?.status, 200)
    }

    func testBodyOverTheCapGets413WithoutSendingTheBody() throws {
        let s = try start { $0.maxBodyBytes = 1024 }
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", status: 413)
        let ok = try s.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n\(String(repeating: "z", count: 1024))")
        XCTAssertEqual(ok?.status, 200)
        XCTAssertEqual(ok?.body.count, 1024)
    }

    func testRouteBodyLimitOverridesTheServerLimit() throws {
        let s = try start()
        try assertRejected(s, "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n12345678901234567", status: 413)
        XCTAssertEqual(try s.exchange("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n1234567890123456")?.text, "1234567890123456")
    }

    // MARK: Syntax

    func testBareLFLineEndingsAreRejected() throws {
        let s = try start()
        try assertRejected(s, "GET /health HTTP/1.1\nHost: x\n\n", status: 400)
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", status: 400)
    }

    func testWhitespaceBeforeColonIsRejected() throws {
        let s = try start()
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost : x\r\n\r\n", status: 400)
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length\t: 5\r\n\r\nhello", status: 400)
    }

    func testObsoleteLineFoldingIsRejected() throws {
        let s = try start()
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\nX-A: b\r\n  continued\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\tcontinued\r\n\r\n", status: 400)
    }

    func testInvalidHeaderNameAndValueCharactersAreRejected() throws {
        let s = try start()
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\nX-A: b\u{0}c\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\nX-A: b\rc\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", status: 400)
    }

    func testMalformedRequestLinesAreRejected() throws {
        let s = try start()
        try assertRejected(s, "GET  /health HTTP/1.1\r\nHost: x\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health\r\nHost: x\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTP/1.1 extra\r\nHost: x\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTX/1.1\r\nHost: x\r\n\r\n", status: 400)
        try assertRejected(s, "G(T /health HTTP/1.1\r\nHost: x\r\n\r\n", status: 400)
        try assertRejected(s, "GET health HTTP/1.1\r\nHost: x\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTP/2.0\r\nHost: x\r\n\r\n", status: 505)
    }

    func testHTTP11RequiresExactlyOneHost() throws {
        let s = try start()
        try assertRejected(s, "GET /health HTTP/1.1\r\n\r\n", status: 400)
        try assertRejected(s, "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400)
    }

    func testEmptyLinesBeforeARequestAreIgnored() throws {
        let s = try start()
        let r = try s.exchange("\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(r?.status, 200)
    }

    func testAbsoluteFormTargetIsRouted() throws {
        let s = try start()
        let r = try s.exchange("GET http://example.com/query?n=7 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        XCTAssertEqual(r?.status, 200)
        XCTAssertEqual(r?.text, "7")
    }

    func testExpect100ContinueGetsAnInterimResponse() throws {
        let s = try start()
        let c = try s.connect()
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = c.readResponse()
        XCTAssertEqual(interim?.status, 100, "the client waits for 100 Continue before sending the body")
        c.send("hello")
        let final = c.readResponse()
        XCTAssertEqual(final?.status, 200)
        XCTAssertEqual(final?.text, "hello")
        try assertRejected(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\n", status: 417)
    }

    // MARK: Connection handling

    func testPipelinedRequestsGetResponsesInOrder() throws {
        let s = try start()
        let c = try s.connect()
        c.send("GET /query?n=1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwoGET /query?n=3 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.text, "1")
        XCTAssertEqual(c.readResponse()?.text, "two")
        XCTAssertEqual(c.readResponse()?.text, "3")
    }

    func testRequestSplitAcrossManyWritesIsAssembled() throws {
        let s = try start()
        let c = try s.connect()
        for ch in "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" {
            c.send(String(ch))
            usleep(1000)
        }
        XCTAssertEqual(c.readResponse()?.text, "hello")
    }

    func testKeepAliveIsTheDefaultForHTTP11() throws {
        let s = try start()
        let c = try s.connect()
        for i in 0..<3 {
            c.send("GET /query?n=\(i) HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = c.readResponse()
            XCTAssertEqual(r?.text, "\(i)")
            XCTAssertNil(r?.header("Connection"))
        }
    }

    func testConnectionCloseIsHonoured() throws {
        let s = try start()
        let c = try s.connect()
        c.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let r = c.readResponse()
        XCTAssertEqual(r?.status, 200)
        XCTAssertEqual(r?.header("Connection"), "close")
        XCTAssertTrue(c.waitForClose(timeout: 5))
    }

    func testHTTP10ClosesUnlessKeepAliveIsAsked() throws {
        let s = try start()
        let c = try s.connect()
        c.send("GET /health HTTP/1.0\r\n\r\n")
        let r = c.readResponse()
        XCTAssertEqual(r?.status, 200)
        XCTAssertEqual(r?.header("Connection"), "close")
        XCTAssertTrue(c.waitForClose(timeout: 5))

        let k = try s.connect()
        k.send("GET /query?n=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = k.readResponse()
        XCTAssertEqual(first?.header("Connection"), "keep-alive")
        k.send("GET /query?n=2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(k.readResponse()?.text, "2")
    }

    func testSlowClientIsCutOffByTheReadTimeout() throws {
        let s = try start { $0.readTimeout = 0.5 }
        let c = try s.connect()
        c.send("GET /health HTTP/1.1\r\nHo")
        let started = Date()
        let r = c.readResponse(timeout: 5)
        XCTAssertEqual(r?.status, 408)
        XCTAssertTrue(c.waitForClose(timeout: 5))
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)
    }

    func testSlowBodyIsCutOffByTheReadTimeout() throws {
        let s = try start { $0.readTimeout = 0.5 }
        let c = try s.connect()
        c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        XCTAssertEqual(c.readResponse(timeout: 5)?.status, 408)
        XCTAssertTrue(c.waitForClose(timeout: 5))
    }

    func testTricklingBytesDoNotExtendTheReadTimeout() throws {
        let s = try start { $0.readTimeout = 0.5 }
        let c = try s.connect()
        let started = Date()
        var closed = false
        for ch in "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: \(String(repeating: "s", count: 60))" {
            c.send(String(ch))
            if c.waitForClose(timeout: 0.05) { closed = true; break }
        }
        XCTAssertTrue(closed || c.waitForClose(timeout: 3), "a client trickling one byte every 50 ms must still be cut off")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }

    func testIdleKeepAliveConnectionIsClosed() throws {
        let s = try start { $0.idleTimeout = 0.5 }
        let c = try s.connect()
        c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 200)
        XCTAssertTrue(c.waitForClose(timeout: 5), "an idle keep-alive connection must be closed after idleTimeout")
    }

    func testConnectionsOverTheCapGet503() throws {
        let s = try start { $0.maxConnections = 2 }
        let a = try s.connect()
        let b = try s.connect()
        for c in [a, b] {
            c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(c.readResponse()?.status, 200)
        }
        let third = try s.connect()
        let r = third.readResponse()
        XCTAssertEqual(r?.status, 503)
        XCTAssertEqual(r?.errorCode, "unavailable")
        XCTAssertTrue(third.waitForClose(timeout: 5))

        a.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(a.readResponse()?.status, 200)
        XCTAssertTrue(a.waitForClose(timeout: 5))
        // The slot frees once the server has closed its side.
        var served = false
        for _ in 0..<50 where !served {
            let again = try s.connect()
            again.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            served = again.readResponse()?.status == 200
            if !served { usleep(20_000) }
        }
        XCTAssertTrue(served, "a freed slot should admit a new connection")
    }

    func testClientVanishingMidResponseDoesNotKillTheServer() throws {
        let s = try start()
        for _ in 0..<3 {
            let c = try s.connect()
            c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            usleep(20_000)
        }
        // The connections above are closed (deinit) with unread data: sends fail with EPIPE or
        // ECONNRESET, which must not raise SIGPIPE (the test process would die).
        usleep(200_000)
        XCTAssertEqual(try s.exchange("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")?.status, 200)
    }

    // MARK: Responses

    func testOutgoingHeaderValuesCannotSplitTheResponse() throws {
        let s = try start()
        let c = try s.connect()
        c.send("GET /evil HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        guard let r = c.readResponse() else { return XCTFail("no response") }
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "evil")
        let lines = r.head.components(separatedBy: "\r\n")
        XCTAssertFalse(lines.contains { $0.lowercased().hasPrefix("injected") }, r.head)
        XCTAssertFalse(r.head.utf8.contains(0), "NUL must not reach the wire")
        XCTAssertEqual(r.header("X-Evil"), "aInjected: yesz")
        XCTAssertNil(r.header("Bad Name"))
        XCTAssertEqual(r.headerCount("Content-Length"), 1)
        XCTAssertEqual(r.header("Content-Length"), "4")
        XCTAssertNil(r.header("Transfer-Encoding"))
        XCTAssertEqual(c.readResponse()?.text, "ok", "framing must stay intact for the next response")
    }

    func testResponsesCarryDateAndContentType() throws {
        let s = try start()
        let r = try s.exchange("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(r?.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertTrue(r?.header("Date")?.hasSuffix(" GMT") ?? false)
        XCTAssertEqual(r?.text, "ok")
    }
}
