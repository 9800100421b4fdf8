import TMTBase

/// Writes JSON straight into bytes, in the API's conventions (`HTTPJSON`): exact decimals,
/// RFC 3339 UTC dates with milliseconds, unescaped slashes, and members in the order written —
/// write them in sorted key order to match `HTTPJSON.encoder`, and leave nil values out as it
/// does (the `…IfPresent` methods).
///
/// For hot read paths only: `JSONEncoder` costs several microseconds per value there
/// (`Decimal` above all, see `DecimalText`). `JSONWriterTests` holds the writer to the encoder's
/// bytes; a type that writes itself needs a test of its member set.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Per open container: whether a member has been written yet.
    private var started: [Bool] = []
    /// A key was just written: the next value is its member's, with no separator before it.
    private var pendingValue = false

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: - Containers

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        started.append(false)
    }

    public mutating func endObject() {
        started.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        started.append(false)
    }

    public mutating func endArray() {
        started.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    /// The key of the next member (an object's value follows).
    public mutating func key(_ key: String) {
        separate()
        HTTPJSON.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        pendingValue = true
    }

    // MARK: - Values

    public mutating func string(_ value: String) {
        separate()
        HTTPJSON.appendString(value, to: &bytes)
    }

    public mutating func decimal(_ value: Decimal) {
        separate()
        DecimalText.append(value, to: &bytes)
    }

    public mutating func date(_ value: Date) {
        separate()
        HTTPJSON.appendString(Logger.timestamp(value), to: &bytes)
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    // MARK: - Members

    public mutating func member(_ name: String, _ value: String) { key(name); string(value) }
    public mutating func member(_ name: String, _ value: Decimal) { key(name); decimal(value) }
    public mutating func member(_ name: String, _ value: Date) { key(name); date(value) }
    /// A member only when `value` is not nil (as `JSONEncoder` leaves nil optionals out).
    public mutating func memberIfPresent(_ name: String, _ value: String?) { if let value { member(name, value) } }

    /// A comma before every member or element but the first of its container.
    private mutating func separate() {
        if pendingValue {
            pendingValue = false
            return
        }
        guard let last = started.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) } else { started[started.count - 1] = true }
    }
}
