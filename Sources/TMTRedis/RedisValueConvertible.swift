import TMTBase

/// A value that can be sent to Redis as one binary-safe argument.
///
/// Bytes (`[UInt8]`, `Data`) go as they are; text as UTF-8; integers as decimal digits; doubles
/// in a form Redis parses (`1.5`, `inf`, `-inf`).
public protocol RedisValueConvertible: Sendable {
    /// The argument bytes.
    var redisBytes: [UInt8] { get }
}

extension Array: RedisValueConvertible where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
}

extension ArraySlice: RedisValueConvertible where Element == UInt8 {
    public var redisBytes: [UInt8] { Array(self) }
}

extension Data: RedisValueConvertible {
    public var redisBytes: [UInt8] { [UInt8](self) }
}

extension String: RedisValueConvertible {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisValueConvertible {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Int: RedisValueConvertible {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisValueConvertible {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Double: RedisValueConvertible {
    public var redisBytes: [UInt8] { Array(RedisValueFormat.double(self).utf8) }
}

enum RedisValueFormat {
    /// Redis reads doubles with `strtold`; Swift's shortest round-trip form (`0.1`, `1e+20`) is
    /// exact, and infinities need Redis's spelling.
    static func double(_ v: Double) -> String {
        if v == .infinity { return "+inf" }
        if v == -.infinity { return "-inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
