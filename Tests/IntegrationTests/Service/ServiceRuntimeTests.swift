import Foundation
import Synchronization
import TMTCore
import XCTest

final class ServiceRuntimeTests: XCTestCase {
    private func makeRuntime(_ name: String, registry: MetricsRegistry = MetricsRegistry()) throws -> ServiceRuntime {
        let options = try ServiceOptions.parse(service: name, defaultPort: 0, arguments: [],
                                               environment: Environment(["HEARTBEAT_INTERVAL_SECONDS": "0.2"]))
        return try ServiceRuntime(options: options, logSink: MemoryLogSink(), metrics: registry)
    }

    /// /health is liveness, /ready reflects the dependency checks, /metrics is valid Prometheus text.
    func testHealthReadyAndMetricsEndpoints() throws {
        let rt = try makeRuntime("runtime-test")
        let redisUp = Atomic<Bool>(false)
        rt.health.add("postgres") {}
        rt.health.add("redis") {
            if !redisUp.load(ordering: .relaxed) { throw TMTError(.connection, "cannot connect to Redis at 127.0.0.1:1") }
        }
        var router = HTTPRouter()
        router.get("/api/ping") { _ in .text("pong") }
        try rt.startHTTP(router: router)
        defer { rt.lifecycle.shutdown() }
        let base = "http://127.0.0.1:\(rt.httpPort)"
        let client = HTTPClient(timeout: 5)

        let live = try client.get(base + "/health")
        XCTAssertEqual(live.status, 200)
        let liveBody = try JSONSerialization.jsonObject(with: Data(live.body)) as? [String: Any]
        XCTAssertEqual(liveBody?["service"] as? String, "runtime-test")
        XCTAssertEqual(liveBody?["status"] as? String, "ok")

        let notReady = try client.get(base + "/ready")
        XCTAssertEqual(notReady.status, 503)
        XCTAssertTrue(notReady.text.contains("cannot connect to Redis"), notReady.text)
        redisUp.store(true, ordering: .relaxed)
        let ready = try client.get(base + "/ready")
        XCTAssertEqual(ready.status, 200, ready.text)

        XCTAssertEqual(try client.get(base + "/api/ping").text, "pong")

        let metrics = try client.get(base + "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(metrics.text.contains("tmt_service_info{service=\"runtime-test\""), metrics.text)
        XCTAssertTrue(metrics.text.contains("tmt_http_requests_total{"), metrics.text)
        XCTAssertTrue(metrics.text.contains("process_resident_memory_bytes "), metrics.text)
        let (status, output) = try Promtool.checkMetrics(metrics.text)
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "", output)

        rt.lifecycle.shutdown()
        XCTAssertThrowsError(try client.get(base + "/health", timeout: 1), "server still answering after shutdown")
    }

    /// Heartbeats reach `agents.health` through the real broker and carry the readiness status.
    func testHeartbeatsArePublishedOnAgentsHealth() throws {
        let bootstrap = try TestServices.kafkaBootstrap()
        let rt = try makeRuntime("heartbeat-test-\(UUID().uuidString.prefix(8))")
        rt.health.add("kafka") {}
        rt.health.add("postgres") { throw TMTError(.connection, "database down") }
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "heartbeat-test")
        let producer = try KafkaProducer(configuration: config, metrics: rt.metrics, logger: rt.logger)
        rt.lifecycle.onShutdown("producer") { producer.close(timeout: 5) }
        rt.startHeartbeat(producer: producer)
        defer { rt.lifecycle.shutdown() }

        let received = Mutex<[AgentHeartbeat]>([])
        let got = DispatchSemaphore(value: 0)
        let consumer = try KafkaConsumer(configuration: config, groupId: "heartbeat-test-\(UUID().uuidString)",
                                         topics: [Topic.agentsHealth.name], metrics: MetricsRegistry())
        let service = rt.options.service
        try consumer.startEnvelopes(AgentHeartbeat.self) { envelope, message in
            guard envelope.payload.service == service else { return }
            XCTAssertEqual(message.key.map { String(decoding: $0, as: UTF8.self) }, service)
            let n = received.withLock { $0.append(envelope.payload); return $0.count }
            if n == 2 { got.signal() }
        }
        defer { consumer.stop(timeout: 10) }
        XCTAssertEqual(got.wait(timeout: .now() + 30), .success, "no heartbeats arrived on agents.health")
        let beats = received.withLock { $0 }
        XCTAssertEqual(beats.first?.status, "degraded")
        XCTAssertEqual(beats.first?.failingChecks, ["postgres"])
        XCTAssertEqual(beats.first?.instanceId, rt.options.instanceId)
        XCTAssertGreaterThan(rt.metrics.exposition().components(separatedBy: "tmt_heartbeats_sent_total ").count, 1)

        // A clean shutdown ends with a heartbeat saying so (the circuit breaker stops counting
        // the instance instead of waiting for it to fall silent).
        rt.lifecycle.shutdown()
        XCTAssertTrue(KafkaWait.until(timeout: 20) { received.withLock { $0.last?.status } == AgentHeartbeat.stoppingStatus },
                      "statuses: \(received.withLock { $0.map(\.status) })")
        XCTAssertEqual(received.withLock { $0.last?.failingChecks }, [])
    }
}
