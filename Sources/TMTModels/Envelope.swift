import TMTBase

/// One agent's pass over a message: when it received it and when it sent its result on.
/// Times are microseconds since the Unix epoch, taken from a monotonic clock anchored to the wall
/// clock once per process (`HopClock`), so in/out differences inside one agent are exact even if
/// the wall clock is stepped.
public struct Hop: Codable, Sendable, Equatable {
    /// The agent (service name), e.g. `aria-risk`.
    public var agent: String
    /// Received, µs since epoch.
    public var inMicros: Int64
    /// Sent on, µs since epoch.
    public var outMicros: Int64

    public init(agent: String, inMicros: Int64, outMicros: Int64) {
        self.agent = agent
        self.inMicros = inMicros
        self.outMicros = outMicros
    }

    /// Processing time inside the agent, in seconds.
    public var processingSeconds: Double { Double(outMicros - inMicros) / 1e6 }

    enum CodingKeys: String, CodingKey {
        case agent
        case inMicros = "in"
        case outMicros = "out"
    }
}

/// Monotonic time converted to epoch microseconds: wall clock read once, then advanced by
/// `CLOCK_MONOTONIC`. Used for hop timestamps.
public enum HopClock {
    private static let anchor: (wall: Int64, mono: UInt64) = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let wall = Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
        return (wall, Monotonic.nanos())
    }()

    /// Now, in µs since the epoch.
    public static func nowMicros() -> Int64 {
        anchor.wall + Int64((Monotonic.nanos() &- anchor.mono) / 1000)
    }
}

extension Date {
    /// The instant `micros` µs after the Unix epoch (the models' times: `Tick.time`,
    /// `Order.createdAt`, `Position.openedAt`, …).
    public init(micros: Int64) { self.init(timeIntervalSince1970: Double(micros) / 1e6) }
}

/// The message envelope every topic carries (ARCHITECTURE.md, "Topics").
///
/// `id` is deterministic where a message is derived from another (an order id from signal id and
/// account), so that reprocessing after a redelivery produces the same id and the effect stays
/// idempotent.
public struct Envelope<Payload: Codable & Sendable>: Codable, Sendable {
    /// Unique message id; deterministic for derived messages.
    public var id: String
    /// Message type, e.g. `order.proposed`.
    public var type: String
    /// Version of the payload schema; consumers reject versions they do not know.
    public var schemaVersion: Int
    /// Carried unchanged from the first message of a chain (the tick or signal) to the fill.
    public var traceId: String
    /// When this message was created, µs since epoch.
    public var createdAt: Int64
    /// The service that produced this message.
    public var source: String
    /// Every agent the chain has passed through so far, in order.
    public var hops: [Hop]
    public var payload: Payload

    public init(id: String, type: String, schemaVersion: Int = 1, traceId: String, createdAt: Int64 = HopClock.nowMicros(),
                source: String, hops: [Hop] = [], payload: Payload) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.traceId = traceId
        self.createdAt = createdAt
        self.source = source
        self.hops = hops
        self.payload = payload
    }

    /// A message derived from this one: same trace, hops so far plus this agent's hop.
    public func derive<P: Codable & Sendable>(id: String, type: String, source: String, receivedMicros: Int64,
                                                payload: P, schemaVersion: Int = 1) -> Envelope<P> {
        let now = HopClock.nowMicros()
        return Envelope<P>(id: id, type: type, schemaVersion: schemaVersion, traceId: traceId, createdAt: now, source: source,
                           hops: hops + [Hop(agent: source, inMicros: receivedMicros, outMicros: now)], payload: payload)
    }

    /// Moves the last hop's out time to `micros`: the message leaves its agent later than it was
    /// derived (after a store, or a hold), and the wait belongs to that agent's hop, not the next.
    public mutating func stampLeaving(at micros: Int64 = HopClock.nowMicros()) {
        guard !hops.isEmpty else { return }
        hops[hops.count - 1].outMicros = micros
    }
}

/// JSON coding for envelopes, shared so every service encodes the same way.
public enum EnvelopeCoding {
    /// Encodes with sorted keys (stable bytes for the same message).
    public static func encode<P>(_ envelope: Envelope<P>) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(envelope)) } catch {
            throw TMTError(.encoding, "cannot encode \(envelope.type) envelope \(envelope.id): \(error)")
        }
    }

    /// Decodes, with an error that says which field was wrong.
    public static func decode<P>(_ type: P.Type, from bytes: [UInt8]) throws -> Envelope<P> {
        // Ticks, the busiest message by far, are read directly when they have the exact shape
        // this coding writes; anything else goes through JSONDecoder (same value or its error).
        if P.self == Tick.self, let tick = TickEnvelopeDecoding.decode(bytes) {
            // P is Tick: the same type, so no dynamic cast (its metadata lookups cost as much as
            // reading the tick).
            return unsafeBitCast(tick, to: Envelope<P>.self)
        }
        do {
            return try JSONDecoder().decode(Envelope<P>.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw TMTError(.decoding, "missing field '\(path(ctx.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(t, ctx) {
            throw TMTError(.decoding, "field '\(path(ctx.codingPath))': expected \(t)")
        } catch let DecodingError.valueNotFound(t, ctx) {
            throw TMTError(.decoding, "field '\(path(ctx.codingPath))': expected \(t), found null")
        } catch let DecodingError.dataCorrupted(ctx) {
            throw TMTError(.decoding, ctx.codingPath.isEmpty ? "not valid JSON" : "field '\(path(ctx.codingPath))': \(ctx.debugDescription)")
        } catch {
            throw TMTError(.decoding, "cannot decode envelope: \(error)")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacing(".[", with: "[")
    }
}
