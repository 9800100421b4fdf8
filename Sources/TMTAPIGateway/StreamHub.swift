import TMTBase
import Synchronization
import TMTCore

/// The live feed behind `GET /api/v1/stream` (Server-Sent Events).
///
/// One Kafka consumer per gateway process, in a group of its own (`api-gateway-stream-<instance>`,
/// `auto.offset.reset=latest`: a dashboard wants what happens from now on, and every gateway
/// instance must see every message), reads `executions.fills`, `accounts.updates`,
/// `positions.updates` and `breaker.events`. Each message is rendered once as an SSE frame
/// (`event: fill|account|position|breaker`, `data:` the message's envelope JSON verbatim, so
/// numbers stay exact and the payload is under `payload`) and offered to every connected client.
///
/// Each client has a bounded queue, drained by its own connection thread. The consumer thread
/// never writes to a socket, so a slow client cannot hold up the others or the consumer; a client
/// whose queue overflows is dropped (its stream ends, `EventSource` reconnects and the page
/// resynchronises from the REST routes). While clients are connected the aggregated health is
/// polled every `healthInterval` seconds and a `health` event goes out when its status or the set
/// of failing components changes. A heartbeat (an SSE comment plus a tiny `heartbeat` event the
/// page uses to tell "connected" from "stale") goes out every `heartbeat` seconds.
final class StreamHub: Sendable {
    /// The SSE event name of each consumed topic.
    static let events: [String: String] = [
        Topic.executionsFills.name: "fill",
        Topic.accountsUpdates.name: "account",
        Topic.positionsUpdates.name: "position",
        Topic.breakerEvents.name: "breaker",
    ]

    /// Largest number of queued bytes per client, on top of the event count limit.
    static let maxClientBytes = 4 * 1024 * 1024

    /// One connected client's queue of rendered frames.
    final class Client: Sendable {
        enum Take {
            case frames(String)
            case dropped
            case idle
        }

        private struct Queue {
            var frames: [String] = []
            var bytes = 0
            var dropped = false
        }

        let id: Int
        private let limit: Int
        private let queue = Locked(Queue())
        private let ready = DispatchSemaphore(value: 0)

        init(id: Int, limit: Int) {
            self.id = id
            self.limit = limit
        }

        /// Queues a frame; false when this offer overflowed the queue (the client is now dropped).
        @discardableResult
        func offer(_ frame: String) -> Bool {
            let accepted = queue.withLock { q -> Bool in
                if q.dropped { return true }
                if q.frames.count >= limit || q.bytes + frame.utf8.count > StreamHub.maxClientBytes {
                    q.dropped = true
                    q.frames = []
                    q.bytes = 0
                    return false
                }
                q.frames.append(frame)
                q.bytes += frame.utf8.count
                return true
            }
            ready.signal()
            return accepted
        }

        /// Wakes the client's loop (shutdown).
        func wake() { ready.signal() }

        /// Waits up to `timeout` seconds for frames and takes all of them, concatenated.
        func take(timeout: Double) -> Take {
            _ = ready.wait(timeout: .now() + timeout)
            return queue.withLock { q in
                if q.dropped { return .dropped }
                if q.frames.isEmpty { return .idle }
                let out = q.frames.joined()
                q.frames.removeAll(keepingCapacity: true)
                q.bytes = 0
                return .frames(out)
            }
        }
    }

    private struct Registry {
        var clients: [Int: Client] = [:]
        var nextId = 1
    }

    private struct HealthState {
        var signature: String?
        var frame: String?
    }

    let heartbeat: Double
    let healthInterval: Double
    let clientBuffer: Int
    let maxClients: Int
    let instanceId: String
    private let health: HealthAggregator
    private let logger: Logger
    private let registry = Locked(Registry())
    private let healthState = Locked(HealthState())
    private let stopped = Atomic<Bool>(false)
    private let healthWake = DispatchSemaphore(value: 0)
    private let healthDone = DispatchSemaphore(value: 0)
    private let consumer = Locked<KafkaConsumer?>(nil)
    private let connected: Gauge
    private let sent: CounterFamily
    private let droppedClients: Counter

    init(settings: GatewaySettings, health: HealthAggregator, instanceId: String, metrics: MetricsRegistry, logger: Logger) {
        heartbeat = settings.streamHeartbeat
        healthInterval = settings.streamHealthInterval
        clientBuffer = settings.streamClientBuffer
        maxClients = settings.streamMaxClients
        self.instanceId = instanceId
        self.health = health
        self.logger = logger.with("component", "stream")
        connected = metrics.gauge("tmt_gateway_stream_clients", help: "Clients connected to /api/v1/stream.").labels()
        sent = metrics.counter("tmt_gateway_stream_events_total", help: "Events fanned out to /api/v1/stream clients, by event name (once per event, not per client).",
                               labels: ["event"])
        droppedClients = metrics.counter("tmt_gateway_stream_dropped_clients_total",
                                         help: "Stream clients dropped because they did not keep up with the feed.").labels()
    }

    // MARK: Lifecycle

    /// Joins the stream's consumer group and starts the health poller.
    func start(kafka: KafkaConfiguration, deadLetterProducer: KafkaProducer, metrics: MetricsRegistry) throws {
        var config = kafka.forDataPlane()
        config.autoOffsetReset = "latest"
        let c = try KafkaConsumer(configuration: config, groupId: "api-gateway-stream-\(instanceId)",
                                  topics: Self.events.keys.sorted(), deadLetterProducer: deadLetterProducer,
                                  metrics: metrics, logger: logger)
        try c.start { [self] message in publish(message) }
        consumer.withLock { $0 = c }
        TMTThread.detach(name: "stream-health") { [self] in
            healthLoop()
            healthDone.signal()
        }
    }

    /// Stops consuming and polling and ends every client's stream.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        healthWake.signal()
        for c in registry.withLock({ Array($0.clients.values) }) { c.wake() }
        consumer.withLock { $0 }?.stop(timeout: 10)
        _ = healthDone.wait(timeout: .now() + health.timeout + 2)
    }

    var isStopped: Bool { stopped.load(ordering: .acquiring) }
    var clientCount: Int { registry.withLock { $0.clients.count } }

    // MARK: Fan-out

    /// Fans one consumed message out. Never throws: a message that is not JSON is skipped (it
    /// is the producer's problem, and the dashboard must not see half a frame).
    func publish(_ message: KafkaMessage) {
        guard let event = Self.events[message.topic] else { return }
        guard let text = String(validating: message.value, as: UTF8.self),
              JSONCheck.shape(message.value) == .object else {
            logger.warning("skipping a message that is not a JSON object", ["topic": message.topic, "offset": String(message.offset)])
            return
        }
        broadcast(Self.frame(event: event, data: text), event: event)
    }

    /// Offers a rendered frame to every client; drops the ones that overflow.
    func broadcast(_ frame: String, event: String) {
        sent.labels(event).inc()
        let clients = registry.withLock { Array($0.clients.values) }
        for client in clients where !client.offer(frame) {
            droppedClients.inc()
            logger.warning("dropping a stream client that does not keep up", ["client": String(client.id), "buffer": String(clientBuffer)])
        }
    }

    /// One SSE frame: `event:`, one `data:` line per line of `data`, blank line.
    static func frame(event: String, data: String, comment: String? = nil) -> String {
        var out = comment.map { ": \($0)\n" } ?? ""
        out += "event: \(event)\n"
        for line in data.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            out += "data: \(line)\n"
        }
        return out + "\n"
    }

    // MARK: One client

    /// Whether another client may connect (checked before the 200 goes out).
    func admits() -> Bool { !isStopped && clientCount < maxClients }

    /// Serves one client until it disconnects, falls behind, or the gateway stops. Runs on the
    /// client's connection thread.
    func serve(_ writer: HTTPStreamWriter) throws {
        let client: Client? = registry.withLock { r in
            guard r.clients.count < maxClients else { return nil }
            let c = Client(id: r.nextId, limit: clientBuffer)
            r.nextId += 1
            r.clients[c.id] = c
            return c
        }
        guard let client else { return }
        connected.inc()
        defer {
            registry.withLock { _ = $0.clients.removeValue(forKey: client.id) }
            connected.dec()
        }
        let hello = #"{"instance":\#(Self.quoted(instanceId)),"heartbeatSeconds":\#(heartbeat),"events":["fill","account","position","breaker","health"]}"#
        var opening = "retry: 3000\n\n" + Self.frame(event: "hello", data: hello)
        if let health = healthState.withLock({ $0.frame }) { opening += health }
        try writer.write(opening)
        healthWake.signal()   // a first client: poll now rather than at the next tick
        var lastBeat = Monotonic.nanos()
        let beatNanos = UInt64(heartbeat * 1e9)
        while !isStopped {
            switch client.take(timeout: min(0.5, heartbeat)) {
            case .frames(let text):
                try writer.write(text)
            case .dropped:
                return
            case .idle:
                guard writer.isOpen else { return }
            }
            if Monotonic.nanos() &- lastBeat >= beatNanos {
                lastBeat = Monotonic.nanos()
                let now = Logger.timestamp(Date())
                try writer.write(Self.frame(event: "heartbeat", data: #"{"at":"\#(now)"}"#, comment: "heartbeat"))
            }
        }
    }

    private static func quoted(_ s: String) -> String {
        (try? HTTPJSON.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    // MARK: Health

    private func healthLoop() {
        while !isStopped {
            if clientCount > 0 {
                let report = health.run()
                let signature = report.status + ":" + report.failing.sorted().joined(separator: ",")
                let frame = (try? HTTPJSON.encode(report)).map { Self.frame(event: "health", data: String(decoding: $0, as: UTF8.self)) }
                let changed = healthState.withLock { s -> Bool in
                    let changed = s.signature != signature
                    s.signature = signature
                    if let frame { s.frame = frame }
                    return changed
                }
                if changed, let frame, !isStopped { broadcast(frame, event: "health") }
            }
            _ = healthWake.wait(timeout: .now() + healthInterval)
        }
    }
}
