import TMTBase

/// A direct reader for the one message every tick consumer decodes thousands of times a second:
/// `Envelope<Tick>` as `EnvelopeCoding.encode` writes it. `JSONDecoder` spent about half of
/// Wyckoff's time on the first hop; this reads the bytes in one pass.
///
/// Strict and conservative: it accepts exactly the envelope's members with the expected JSON
/// types (any order, insignificant whitespace allowed) and returns nil for anything else —
/// unknown or duplicate members, escapes in strings, exponents or more than 19 digits in numbers,
/// trailing bytes — so `EnvelopeCoding.decode` then takes `JSONDecoder`, which gives the same
/// value or the precise error the dead-letter queue records.
enum TickEnvelopeDecoding {
    static func decode(_ bytes: [UInt8]) -> Envelope<Tick>? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            return reader.envelope()
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func envelope() -> Envelope<Tick>? {
            var id: String?, type: String?, traceId: String?, source: String?
            var schemaVersion: Int64?, createdAt: Int64?
            var hops: [Hop]?, payload: Tick?
            let ok = object { key, r in
                if Self.is(key, "id") { return Self.fill(&id, r.string()) }
                if Self.is(key, "type") { return Self.fill(&type, r.string()) }
                if Self.is(key, "traceId") { return Self.fill(&traceId, r.string()) }
                if Self.is(key, "source") { return Self.fill(&source, r.string()) }
                if Self.is(key, "schemaVersion") { return Self.fill(&schemaVersion, r.integer()) }
                if Self.is(key, "createdAt") { return Self.fill(&createdAt, r.integer()) }
                if Self.is(key, "hops") { return Self.fill(&hops, r.hops()) }
                if Self.is(key, "payload") { return Self.fill(&payload, r.tick()) }
                return false
            }
            skipSpace()
            guard ok, i == bytes.count, let id, let type, let traceId, let source, let schemaVersion, let createdAt, let hops, let payload,
                  let version = Int(exactly: schemaVersion) else { return nil }
            return Envelope(id: id, type: type, schemaVersion: version, traceId: traceId, createdAt: createdAt, source: source,
                            hops: hops, payload: payload)
        }

        mutating func tick() -> Tick? {
            var instrument: String?, bid: Decimal?, ask: Decimal?, volume: Decimal?, time: Int64?
            let ok = object { key, r in
                if Self.is(key, "instrument") { return Self.fill(&instrument, r.string()) }
                if Self.is(key, "bid") { return Self.fill(&bid, r.decimal()) }
                if Self.is(key, "ask") { return Self.fill(&ask, r.decimal()) }
                if Self.is(key, "volume") { return Self.fill(&volume, r.decimal()) }
                if Self.is(key, "time") { return Self.fill(&time, r.integer()) }
                return false
            }
            guard ok, let instrument, let bid, let ask, let volume, let time else { return nil }
            return Tick(instrument: instrument, bid: bid, ask: ask, volume: volume, time: time)
        }

        mutating func hops() -> [Hop]? {
            skipSpace()
            guard take(UInt8(ascii: "[")) else { return nil }
            var out: [Hop] = []
            skipSpace()
            if take(UInt8(ascii: "]")) { return out }
            repeat {
                var agent: String?, inMicros: Int64?, outMicros: Int64?
                let ok = object { key, r in
                    if Self.is(key, "agent") { return Self.fill(&agent, r.string()) }
                    if Self.is(key, "in") { return Self.fill(&inMicros, r.integer()) }
                    if Self.is(key, "out") { return Self.fill(&outMicros, r.integer()) }
                    return false
                }
                guard ok, let agent, let inMicros, let outMicros else { return nil }
                out.append(Hop(agent: agent, inMicros: inMicros, outMicros: outMicros))
                skipSpace()
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? out : nil
        }

        /// `{ "key": value, … }`, each value read by `member`, which gets the member name's bytes
        /// (false: give up). Names are compared as bytes: making a `String` of each cost more
        /// than reading the rest of the tick.
        mutating func object(_ member: (UnsafeBufferPointer<UInt8>, inout Reader) -> Bool) -> Bool {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return false }
            skipSpace()
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                guard let key = stringBytes() else { return false }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard member(key, &self) else { return false }
                skipSpace()
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        /// A member's value into its slot: false (give up) when the member came before (a
        /// duplicate) or its value did not read.
        @inline(__always)
        static func fill<T>(_ slot: inout T?, _ value: @autoclosure () -> T?) -> Bool {
            guard slot == nil, let v = value() else { return false }
            slot = v
            return true
        }

        /// Whether a member name's bytes spell `name`.
        static func `is`(_ key: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
            guard key.count == name.utf8CodeUnitCount else { return false }
            guard let base = key.baseAddress else { return key.isEmpty }
            return memcmp(base, name.utf8Start, key.count) == 0
        }

        /// A string without escapes or control characters (anything else: nil).
        mutating func string() -> String? {
            guard let raw = stringBytes() else { return nil }
            // All-ASCII text (every id, instrument and agent the pipeline writes) is valid UTF-8
            // as it stands; anything else is validated, and invalid UTF-8 is JSONDecoder's to refuse.
            var ascii = true
            for b in raw where b >= 0x80 { ascii = false; break }
            return ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
        }

        /// The bytes between a string's quotes, if it has no escapes or control characters.
        mutating func stringBytes() -> UnsafeBufferPointer<UInt8>? {
            skipSpace()
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return UnsafeBufferPointer(rebasing: bytes[start..<(i - 1)])
                }
                if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
                i += 1
            }
            return nil
        }

        /// The bytes of a JSON number token (validated by the callers' parsers).
        mutating func numberToken() -> UnsafeBufferPointer<UInt8>? {
            let start = i
            while i < bytes.count {
                let b = bytes[i]
                guard (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") else { break }
                i += 1
            }
            guard i > start else { return nil }
            // JSON allows no leading zeros ("01") and needs digits after the point.
            let token = UnsafeBufferPointer(rebasing: bytes[start..<i])
            let digitsStart = token.first == UInt8(ascii: "-") ? 1 : 0
            guard token.count > digitsStart else { return nil }
            if token[digitsStart] == UInt8(ascii: "0"), token.count > digitsStart + 1, token[digitsStart + 1] != UInt8(ascii: ".") { return nil }
            if token[digitsStart] == UInt8(ascii: ".") || token.last == UInt8(ascii: ".") { return nil }
            return token
        }

        mutating func integer() -> Int64? {
            guard let token = numberToken() else { return nil }
            var value: Int64 = 0
            var negative = false
            for (n, b) in token.enumerated() {
                if n == 0, b == UInt8(ascii: "-") { negative = true; continue }
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(b &- UInt8(ascii: "0")))
                guard !o1, !o2 else { return nil }
                value = a
            }
            return negative ? -value : value
        }

        mutating func decimal() -> Decimal? {
            guard let token = numberToken() else { return nil }
            return DecimalText.parse(token)
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func take(_ b: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }
    }
}
