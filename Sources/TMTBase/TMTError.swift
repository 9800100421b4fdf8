/// An error from TMT infrastructure: a stable, extensible `code`, a human message that is safe
/// to log (never credentials or query parameters), and optional context for debugging that is
/// only shown through `String(reflecting:)`.
public struct TMTError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable, Equatable {
    /// A category of failure. Extensible: new codes are static members, not enum cases.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let configuration = Code("configuration")
        public static let connection = Code("connection")
        public static let timeout = Code("timeout")
        public static let query = Code("query")
        public static let decoding = Code("decoding")
        public static let encoding = Code("encoding")
        public static let protocolViolation = Code("protocol")
        public static let poolExhausted = Code("pool_exhausted")
        public static let closed = Code("closed")
        public static let invalidArgument = Code("invalid_argument")
        public static let kafka = Code("kafka")
        public static let redis = Code("redis")
        public static let io = Code("io")
    }

    public var code: Code
    /// Safe to log and to show to users.
    public var message: String
    /// Extra detail (server messages, SQLSTATE, …) that may be sensitive; only in `debugDescription`.
    public var detail: String?

    public init(_ code: Code, _ message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    public var description: String { "\(code): \(message)" }
    public var debugDescription: String {
        if let detail { return "\(code): \(message) [\(detail)]" }
        return description
    }
}
