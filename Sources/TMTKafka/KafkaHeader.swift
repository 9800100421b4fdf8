/// One Kafka record header. Kafka allows repeated names and null values, so headers are an
/// ordered list of these rather than a dictionary.
public struct KafkaHeader: Sendable, Hashable {
    /// Header name (UTF-8).
    public var name: String
    /// Raw value; `nil` is Kafka's null header value (distinct from an empty value).
    public var value: [UInt8]?

    /// A header with raw bytes (or null).
    public init(_ name: String, _ value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// A header whose value is the UTF-8 bytes of `string`.
    public init(_ name: String, string: String) {
        self.name = name
        self.value = Array(string.utf8)
    }

    /// The value decoded as UTF-8, `nil` for a null value.
    public var stringValue: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

extension Array where Element == KafkaHeader {
    /// The value of the last header called `name` (later headers win, as in Kafka's Java client
    /// `lastHeader`), or `nil` when there is none or its value is null.
    public func value(_ name: String) -> [UInt8]? {
        last { $0.name == name }?.value
    }

    /// `value(name)` decoded as UTF-8.
    public func string(_ name: String) -> String? {
        value(name).map { String(decoding: $0, as: UTF8.self) }
    }
}
