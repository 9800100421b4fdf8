import Foundation
import Synchronization
import TMTCore
import XCTest

/// Start-up, streaming, metrics and graceful shutdown.
final class HTTPServerLifecycleTests: XCTestCase {
    func testEphemeralPortIsExposedAndBindingTwiceFails() throws {
        var router = HTTPRouter()
        router.get("/health") { _ in .text("ok") }
        let s = try TestHTTPServer(router)
        XCTAssertGreaterThan(s.port, 0)
        XCTAssertThrowsError(try s.server.start()) { XCTAssertEqual(($0 as? TMTError)?.code, .closed) }

        let clash = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: s.port), router: router,
                               metrics: MetricsRegistry())
        XCTAssertThrowsError(try clash.start()) { XCTAssertEqual(($0 as? TMTError)?.code, .connection) }
    }

    func testInvalidConfigurationIsRefusedAtStart() {
        var config = HTTPServerConfiguration()
        config.readTimeout = 0
        let s = HTTPServer(configuration: config, router: HTTPRouter(), metrics: MetricsRegistry())
        XCTAssertThrowsError(try s.start()) { error in
            XCTAssertEqual((error as? TMTError)?.code, .configuration)
            XCTAssertTrue("\(error)".contains("readTimeout"), "\(error)")
        }
    }

    func testServerSentEventsStreamThreeEventsAndEnds() throws {
        var router = HTTPRouter()
        router.get("/events") { _ in
            .eventStream { writer in
                for i in 1...3 { try writer.sendEvent("tick \(i)", event: "tick", id: "\(i)") }
            }
        }
        router.get("/health") { _ in .text("ok") }
        let s = try TestHTTPServer(router)
        let c = try s.connect()
        c.send("GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        guard let r = c.readResponse() else { return XCTFail("no stream") }
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Content-Type"), "text/event-stream")
        XCTAssertEqual(r.header("Transfer-Encoding"), "chunked")
        XCTAssertNil(r.header("Content-Length"))
        XCTAssertEqual(r.text, (1...3).map { "event: tick\nid: \($0)\ndata: tick \($0)\n\n" }.joined())
        // The chunked stream ended cleanly, so the connection is reusable.
        c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.text, "ok")
    }

    func testStreamToHTTP10ClientIsDelimitedByClose() throws {
        var router = HTTPRouter()
        router.get("/events") { _ in .eventStream { try $0.sendEvent("a\nb") } }
        let s = try TestHTTPServer(router)
        let c = try s.connect()
        c.send("GET /events HTTP/1.0\r\n\r\n")
        let raw = String(decoding: c.readUntilClose(timeout: 5), as: UTF8.self)
        XCTAssertTrue(raw.hasSuffix("\r\n\r\ndata: a\ndata: b\n\n"), raw)
        XCTAssertTrue(raw.contains("Connection: close"))
    }

    func testStreamEndsWhenTheClientDisconnects() throws {
        let ended = Atomic<Bool>(false)
        let sent = Atomic<Int>(0)
        var router = HTTPRouter()
        router.get("/events") { _ in
            .eventStream { writer in
                defer { ended.store(true, ordering: .sequentiallyConsistent) }
                while writer.wait(seconds: 0.02) {
                    try writer.sendEvent("x")
                    sent.add(1, ordering: .sequentiallyConsistent)
                }
            }
        }
        let s = try TestHTTPServer(router)
        do {
            let c = try s.connect()
            c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            let deadline = Date().addingTimeInterval(5)
            while sent.load(ordering: .sequentiallyConsistent) < 3 && Date() < deadline { usleep(10_000) }
        }
        let deadline = Date().addingTimeInterval(5)
        while !ended.load(ordering: .sequentiallyConsistent) && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(ended.load(ordering: .sequentiallyConsistent), "the producer must notice the client left")
        let deadline2 = Date().addingTimeInterval(5)
        while s.server.activeConnections > 0 && Date() < deadline2 { usleep(10_000) }
        XCTAssertEqual(s.server.activeConnections, 0)
    }

    func testHandlerFailingMidStreamTruncatesTheStream() throws {
        struct Broken: Error {}
        var router = HTTPRouter()
        router.get("/events") { _ in
            .eventStream { writer in
                try writer.sendEvent("first")
                throw Broken()
            }
        }
        let s = try TestHTTPServer(router)
        let c = try s.connect()
        c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        let raw = String(decoding: c.readUntilClose(timeout: 5), as: UTF8.self)
        XCTAssertTrue(raw.contains("data: first"))
        XCTAssertFalse(raw.hasSuffix("0\r\n\r\n"), "no terminating chunk: the client must see the stream as cut")
        XCTAssertTrue(s.logSink.all.contains { $0.contains("stream producer failed") })
    }

    func testGracefulShutdownFinishesInFlightRequestAndClosesIdleConnections() throws {
        let entered = DispatchSemaphore(value: 0)
        var router = HTTPRouter()
        router.get("/slow") { _ in
            entered.signal()
            Thread.sleep(forTimeInterval: 0.8)
            return .text("done")
        }
        router.get("/health") { _ in .text("ok") }
        let s = try TestHTTPServer(router) { $0.idleTimeout = 60 }
        let port = s.port

        let idle = try s.connect()
        idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(idle.readResponse()?.status, 200)

        let busy = try s.connect()
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(entered.wait(timeout: .now() + 5), .success)

        let started = Date()
        s.server.shutdown(timeout: 10)
        let took = Date().timeIntervalSince(started)

        let r = busy.readResponse()
        XCTAssertEqual(r?.status, 200)
        XCTAssertEqual(r?.text, "done", "the in-flight request must complete")
        XCTAssertEqual(r?.header("Connection"), "close")
        XCTAssertTrue(busy.waitForClose(timeout: 2))
        XCTAssertTrue(idle.waitForClose(timeout: 2), "idle keep-alive connections are closed at shutdown")
        XCTAssertLessThan(took, 5, "shutdown waits for the request, not for the idle timeout")
        XCTAssertThrowsError(try RawHTTPConnection(port: port), "no longer accepting")
        XCTAssertEqual(s.server.port, 0)
    }

    func testShutdownEndsOpenStreams() throws {
        var router = HTTPRouter()
        router.get("/events") { _ in
            .eventStream { writer in
                try writer.sendEvent("hello")
                while writer.wait(seconds: 30) { try writer.sendComment() }
            }
        }
        let s = try TestHTTPServer(router)
        let c = try s.connect()
        c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(100_000)
        let started = Date()
        s.server.shutdown(timeout: 10)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        let raw = String(decoding: c.readUntilClose(timeout: 5), as: UTF8.self)
        XCTAssertTrue(raw.contains("data: hello"))
        XCTAssertTrue(raw.hasSuffix("0\r\n\r\n"), "the stream ends cleanly at shutdown: \(raw.debugDescription)")
    }

    func testShutdownForcesStuckRequestsAfterTheTimeout() throws {
        let entered = DispatchSemaphore(value: 0)
        var router = HTTPRouter()
        router.get("/stuck") { _ in
            .eventStream { writer in
                entered.signal()
                // Ignores the shutdown flag on purpose (a badly written producer).
                for _ in 0..<100 {
                    Thread.sleep(forTimeInterval: 0.05)
                    try? writer.write(": ping\n\n")
                }
            }
        }
        let s = try TestHTTPServer(router)
        let c = try s.connect()
        c.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(entered.wait(timeout: .now() + 5), .success)
        let started = Date()
        s.server.shutdown(timeout: 0.3)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertTrue(c.waitForClose(timeout: 5))
    }

    func testRequestMetricsAppearInTheExposition() throws {
        var router = HTTPRouter()
        router.get("/api/v1/orders/:id") { req in .text(req.parameter("id") ?? "") }
        let s = try TestHTTPServer(router)
        let c = try s.connect()
        for path in ["/api/v1/orders/1", "/api/v1/orders/2", "/nowhere"] {
            c.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertNotNil(c.readResponse())
        }
        do {
            let bad = try s.connect()
            bad.send("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
            XCTAssertEqual(bad.readResponse()?.status, 400)
            XCTAssertTrue(bad.waitForClose(timeout: 5))
        }
        // The rejected connection is released by the server thread shortly after it closed.
        let deadline = Date().addingTimeInterval(5)
        while s.server.activeConnections != 1 && Date() < deadline { usleep(5_000) }

        let text = s.metrics.exposition()
        XCTAssertTrue(text.contains(#"tmt_http_requests_total{method="GET",route="/api/v1/orders/:id",status="200"} 2"#), text)
        XCTAssertTrue(text.contains(#"tmt_http_requests_total{method="GET",route="unmatched",status="404"} 1"#), text)
        XCTAssertTrue(text.contains(#"tmt_http_requests_total{method="OTHER",route="invalid",status="400"} 1"#), text)
        XCTAssertTrue(text.contains(#"tmt_http_request_duration_seconds_count{method="GET",route="/api/v1/orders/:id"} 2"#), text)
        XCTAssertTrue(text.contains(#"tmt_http_request_duration_seconds_bucket{method="GET",route="/api/v1/orders/:id",le="+Inf"} 2"#), text)
        XCTAssertTrue(text.contains("tmt_http_connections_active 1"), "the keep-alive connection is still open: \(text)")
        XCTAssertFalse(text.contains("/api/v1/orders/1\""), "raw paths must not become label values")
    }
}
