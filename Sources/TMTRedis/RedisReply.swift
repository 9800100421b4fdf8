import TMTBase

/// One reply from Redis (RESP2), decoded and owned by Swift.
///
/// Single commands throw on `.error` replies (as `TMTError(.redis, …)`), so callers only see
/// `.error` inside a pipeline's or a script's reply array, where one failing command must not
/// hide the others' results. The typed accessors throw `.redis` for an error reply and
/// `.decoding` for a reply of another type.
public enum RedisReply: Sendable, Hashable, CustomStringConvertible {
    /// A simple string such as `OK` or `PONG`.
    case status(String)
    /// An error reply such as `ERR value is not an integer or out of range`.
    case error(String)
    /// An integer reply.
    case integer(Int64)
    /// A bulk string: arbitrary bytes, returned exactly as stored.
    case bulk([UInt8])
    /// The nil bulk string or nil array (a missing key, an unmet `SET … NX`).
    case null
    /// An array of replies (`MGET`, `HGETALL`, `ZRANGEBYSCORE`, script results).
    case array([RedisReply])

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Throws `TMTError(.redis, …)` if this is an error reply; otherwise returns it unchanged.
    @discardableResult
    public func check(command: String = "command") throws -> RedisReply {
        if case .error(let message) = self { throw Self.serverError(command: command, message) }
        return self
    }

    /// The integer of an integer reply.
    public func integer() throws -> Int64 {
        switch self {
        case .integer(let v): return v
        default: throw mismatch("an integer")
        }
    }

    /// The bytes of a bulk or status reply; `nil` for `.null`.
    public func bytes() throws -> [UInt8]? {
        switch self {
        case .bulk(let b): return b
        case .status(let s): return Array(s.utf8)
        case .null: return nil
        default: throw mismatch("a bulk string")
        }
    }

    /// The bytes of a bulk reply as `Data`; `nil` for `.null`.
    public func data() throws -> Data? {
        try bytes().map { Data($0) }
    }

    /// A bulk or status reply as text (invalid UTF-8 is repaired with U+FFFD); an integer reply as
    /// its decimal digits; `nil` for `.null`.
    public func string() throws -> String? {
        switch self {
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        case .status(let s): return s
        case .integer(let v): return String(v)
        case .null: return nil
        default: throw mismatch("a string")
        }
    }

    /// A bulk string holding a number (`INCRBYFLOAT`, `ZSCORE`, `inf`, `-inf`), or an integer
    /// reply; `nil` for `.null`.
    public func double() throws -> Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .null: return nil
        case .bulk, .status:
            let text = try string() ?? ""
            switch text {
            case "inf", "+inf": return .infinity
            case "-inf": return -.infinity
            default:
                guard let v = Double(text) else { throw mismatch("a number") }
                return v
            }
        default: throw mismatch("a number")
        }
    }

    /// The elements of an array reply; `nil` for `.null`.
    public func array() throws -> [RedisReply]? {
        switch self {
        case .array(let a): return a
        case .null: return nil
        default: throw mismatch("an array")
        }
    }

    /// A status reply's text (`OK`, `PONG`).
    public func status() throws -> String {
        switch self {
        case .status(let s): return s
        default: throw mismatch("a status")
        }
    }

    /// A flat array of alternating field/value bulk strings (`HGETALL`) as a dictionary keyed by
    /// the field text. A repeated field keeps its last value.
    public func fieldValues() throws -> [String: [UInt8]] {
        let items = try array() ?? []
        guard items.count % 2 == 0 else { throw mismatch("an even number of field/value elements") }
        var out: [String: [UInt8]] = [:]
        out.reserveCapacity(items.count / 2)
        var i = 0
        while i < items.count {
            let field = try items[i].string() ?? ""
            out[field] = try items[i + 1].bytes() ?? []
            i += 2
        }
        return out
    }

    /// A flat array of alternating member/score elements (`… WITHSCORES`) as scored members, in
    /// reply order.
    public func scoredMembers() throws -> [RedisScoredMember] {
        let items = try array() ?? []
        guard items.count % 2 == 0 else { throw mismatch("an even number of member/score elements") }
        var out: [RedisScoredMember] = []
        out.reserveCapacity(items.count / 2)
        var i = 0
        while i < items.count {
            guard let member = try items[i].bytes(), let score = try items[i + 1].double() else {
                throw mismatch("member/score pairs without nils")
            }
            out.append(RedisScoredMember(member: member, score: score))
            i += 2
        }
        return out
    }

    /// An array of bulk strings, nils kept (`MGET`).
    public func optionalBytesArray() throws -> [[UInt8]?] {
        try (array() ?? []).map { try $0.bytes() }
    }

    /// An array of bulk strings without nils (`ZRANGEBYSCORE`).
    public func bytesArray() throws -> [[UInt8]] {
        try (array() ?? []).map {
            guard let b = try $0.bytes() else { throw mismatch("an array without nils") }
            return b
        }
    }

    public var description: String {
        switch self {
        case .status(let s): return "+\(s)"
        case .error(let s): return "-\(s)"
        case .integer(let v): return ":\(v)"
        case .bulk(let b): return "$\(b.count) bytes"
        case .null: return "(nil)"
        case .array(let a): return "[\(a.map(\.description).joined(separator: ", "))]"
        }
    }

    private var kind: String {
        switch self {
        case .status: "status"
        case .error: "error"
        case .integer: "integer"
        case .bulk: "bulk string"
        case .null: "nil"
        case .array: "array"
        }
    }

    private func mismatch(_ expected: String) -> TMTError {
        if case .error(let message) = self { return Self.serverError(command: "command", message) }
        return TMTError(.decoding, "expected \(expected) reply from Redis, got \(kind)")
    }

    /// The `TMTError` for a Redis error reply. The message keeps the server's error text (e.g.
    /// `ERR value is not an integer or out of range`) but drops the argument excerpt Redis adds to
    /// some errors, so values never reach logs; the full text is in `detail`.
    static func serverError(command: String, _ serverMessage: String) -> TMTError {
        var text = Substring(serverMessage)
        if let r = text.firstRange(of: ", with args beginning with") { text = text[..<r.lowerBound] }
        if let nl = text.firstIndex(where: { $0 == "\n" || $0 == "\r" }) { text = text[..<nl] }
        if text.count > 200 { text = text.prefix(200) + "…" }
        return TMTError(.redis, "Redis \(command) failed: \(text)", detail: serverMessage)
    }

    /// The error code word of an error reply (`ERR`, `WRONGTYPE`, `NOSCRIPT`), if any.
    public var errorCode: String? {
        guard case .error(let message) = self else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }
}

/// A sorted-set member with its score (`ZRANGEBYSCORE … WITHSCORES`, `popDue`).
public struct RedisScoredMember: Sendable, Hashable {
    /// The member's bytes, exactly as stored.
    public var member: [UInt8]
    /// The member's score.
    public var score: Double

    public init(member: [UInt8], score: Double) {
        self.member = member
        self.score = score
    }

    /// The member as text (invalid UTF-8 repaired with U+FFFD).
    public var string: String { String(decoding: member, as: UTF8.self) }
}
