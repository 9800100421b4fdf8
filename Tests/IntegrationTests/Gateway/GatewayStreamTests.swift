import Foundation
import TMTCore
import XCTest

/// `GET /api/v1/stream` on a real gateway process: the opening `hello` and `health` events, a
/// fill published on Kafka arriving as `event: fill` with its envelope, heartbeats, and a clean
/// end of the stream (terminating chunk, exit status 0) when the gateway gets SIGTERM.
final class GatewayStreamTests: XCTestCase {
    func testStreamFansOutFillsAndEndsCleanlyOnSIGTERM() throws {
        let run = String(UUID().uuidString.prefix(8).lowercased())
        let gateway = try GatewayTest.start(["STREAM_HEARTBEAT_SECONDS": "1", "STREAM_HEALTH_INTERVAL_SECONDS": "1"])
        let stream = try SSEReader(port: gateway.port, path: "/api/v1/stream")
        XCTAssertTrue(stream.read(until: "event: hello", timeout: 10), stream.text)
        XCTAssertTrue(stream.text.hasPrefix("HTTP/1.1 200"), stream.text)
        XCTAssertTrue(stream.text.lowercased().contains("content-type: text/event-stream"), stream.text)
        // The first client makes the gateway poll health at once; the watched agent is down.
        XCTAssertTrue(stream.read(until: "event: health", timeout: 10), stream.text)
        XCTAssertTrue(stream.read(until: "event: heartbeat", timeout: 5), stream.text)
        XCTAssertTrue(stream.text.contains(": heartbeat\n"), "heartbeat comment missing:\n\(stream.text)")
        XCTAssertEqual(metricValue(in: try gateway.metrics(), "tmt_gateway_stream_clients"), 1)

        // A fill (published until the consumer, which starts at the latest offsets, has joined).
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: TestServices.kafkaBootstrap(), clientId: "stream-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close(timeout: 5) }
        let fill = Fill(id: "stream-\(run)-fill", orderId: "stream-\(run)-order", accountId: "stream-\(run)", instrument: "EUR_USD", side: .buy,
                        quantity: Decimal(string: "1.25")!, price: Decimal(string: "1.08512")!, spread: Decimal(string: "0.00008")!,
                        slippage: 0, commission: Decimal(string: "4.5")!, time: HopClock.nowMicros())
        var seen = false
        let end = Date().addingTimeInterval(30)
        var n = 0
        while !seen && Date() < end {
            n += 1
            _ = try producer.send(Envelope(id: "stream-\(run)-\(n)", type: "execution.fill", traceId: "stream-\(run)", source: "test", payload: fill),
                                  to: .executionsFills, key: fill.accountId).wait(timeout: 10)
            seen = stream.read(until: "\"stream-\(run)-fill\"", timeout: 2)
        }
        XCTAssertTrue(seen, "no fill event:\n\(stream.text.suffix(2000))\n\(gateway.log.suffix(2000))")
        let frame = try XCTUnwrap(stream.text.components(separatedBy: "\n\n").first { $0.contains("stream-\(run)-fill") })
        XCTAssertTrue(frame.contains("event: fill\n"), frame)
        let data = frame.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }.joined(separator: "\n")
        let envelope = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any], frame)
        XCTAssertEqual(envelope["type"] as? String, "execution.fill")
        let payload = envelope["payload"] as? [String: Any] ?? [:]
        XCTAssertEqual(payload["orderId"] as? String, "stream-\(run)-order")
        XCTAssertEqual((payload["price"] as? NSNumber)?.stringValue, "1.08512")
        XCTAssertGreaterThanOrEqual(metricValue(in: try gateway.metrics(), #"tmt_gateway_stream_events_total{event="fill"}"#), 1)

        // SIGTERM: the stream ends with the terminating chunk and the gateway exits 0, promptly.
        let started = Date()
        XCTAssertEqual(gateway.terminate(timeout: 20), 0, gateway.log.suffix(3000).description)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertTrue(stream.read(until: "\r\n0\r\n\r\n", timeout: 5) || stream.closed, "stream not ended:\n\(stream.text.suffix(500))")
    }
}

extension GatewayStreamTests {
    /// A client that stops reading is dropped once its queue overflows (its stream ends; it
    /// missed events), while a client that reads gets every event of the same burst.
    func testAClientThatDoesNotKeepUpIsDroppedAndTheOthersAreNotHeldUp() throws {
        let run = String(UUID().uuidString.prefix(8).lowercased())
        let gateway = try GatewayTest.start(["STREAM_CLIENT_BUFFER_EVENTS": "64", "STREAM_HEARTBEAT_SECONDS": "30"])
        let slow = try SSEReader(port: gateway.port, path: "/api/v1/stream", receiveBuffer: 4096)
        XCTAssertTrue(slow.read(until: "event: hello", timeout: 10), slow.text)
        let fast = try SSEReader(port: gateway.port, path: "/api/v1/stream")
        XCTAssertTrue(fast.read(until: "event: hello", timeout: 10), fast.text)

        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: TestServices.kafkaBootstrap(), clientId: "stream-slow-test"),
                                         metrics: MetricsRegistry())
        defer { producer.close(timeout: 5) }
        // Large fills (~2 KB each): the slow client's socket buffers fill within a few MB.
        let padding = String(repeating: "x", count: 2000)
        @Sendable func fill(_ n: Int) -> Envelope<Fill> {
            let f = Fill(id: "slow-\(run)-fill-\(n)", orderId: "slow-\(run)-order-\(n)-\(padding)", accountId: "slow-\(run)", instrument: "EUR_USD",
                         side: .buy, quantity: 1, price: Decimal(string: "1.08512")!, spread: 0, slippage: 0, commission: 0, time: HopClock.nowMicros())
            return Envelope(id: "slow-\(run)-\(n)", type: "execution.fill", traceId: "slow-\(run)", source: "test", payload: f)
        }
        // The stream's consumer starts at the latest offsets: wait until it delivers.
        var joined = false
        let end = Date().addingTimeInterval(30)
        while !joined && Date() < end {
            _ = try producer.send(fill(0), to: .executionsFills, key: "slow-\(run)").wait(timeout: 10)
            joined = fast.read(until: "\"slow-\(run)-fill-0\"", timeout: 2)
        }
        XCTAssertTrue(joined, "the stream never delivered:\n\(gateway.log.suffix(2000))")

        // A burst of 4,000 (~8 MB) from another thread while this one keeps reading the fast client.
        let last = 4000
        let burst = Thread { try? (1...last).forEach { _ = try producer.send(fill($0), to: .executionsFills, key: "slow-\(run)") }; try? producer.flush(timeout: 30) }
        burst.start()
        XCTAssertTrue(fast.read(until: "\"slow-\(run)-fill-\(last)\"", timeout: 90),
                      "the reading client did not get the whole burst (closed: \(fast.closed))\n\(gateway.log.suffix(2000))")
        XCTAssertFalse(fast.closed)
        XCTAssertGreaterThanOrEqual(metricValue(in: try gateway.metrics(), "tmt_gateway_stream_dropped_clients_total"), 1)
        XCTAssertTrue(gateway.log.contains("dropping a stream client that does not keep up"))
        // The slow client, reading again, finds its stream ended (the terminating chunk; the
        // page's EventSource reconnects and reloads) without the burst's last events.
        XCTAssertTrue(slow.read(until: "\r\n0\r\n\r\n", timeout: 30) || slow.closed, "the slow client's stream did not end")
        XCTAssertFalse(slow.text.contains("\"slow-\(run)-fill-\(last)\""), "the dropped client got the whole burst")
        XCTAssertTrue(KafkaWait.until(timeout: 10) { metricValue(in: (try? gateway.metrics()) ?? "", "tmt_gateway_stream_clients") == 1 })
    }
}

/// Reads a streaming HTTP response off a plain socket (`HTTPClient` reads whole bodies only).
final class SSEReader {
    private let fd: Int32
    private var bytes: [UInt8] = []
    private(set) var closed = false

    /// - Parameter receiveBuffer: a small `SO_RCVBUF` makes a client that stops reading fill up fast.
    init(port: Int, path: String, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw TestServices.NotRunning(description: "cannot connect to 127.0.0.1:\(port)")
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    deinit { close(fd) }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Reads until `needle` is in what was received so far; false at the timeout or on close.
    /// Searches only what arrived since the last search (streams here run to megabytes).
    func read(until needle: String, timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        let pattern = Array(needle.utf8)
        var from = 0
        func found() -> Bool {
            guard bytes.count >= pattern.count else { return false }
            let hit = bytes[from...].firstRange(of: pattern) != nil
            from = max(0, bytes.count - pattern.count + 1)
            return hit
        }
        while !found() {
            let remaining = end.timeIntervalSinceNow
            guard remaining > 0, !closed else { return false }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(remaining * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { closed = true } else { bytes += chunk[..<n] }
        }
        return true
    }
}
