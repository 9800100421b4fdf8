import TMTBase

/// A Swift value that can be a query parameter.
///
/// Supported out of the box: `Int`, `Int64`, `Int32`, `Int16` (`int8`/`int4`/`int2`), `Double`
/// (`float8`), `Bool`, `String` (`text`), `Decimal` (`numeric`, exact), `Date` (`timestamptz`,
/// microseconds), `UUID`, `Data` and `[UInt8]` (`bytea`), `PostgresJSON` (`jsonb`), optionals of
/// any of these (`nil` is NULL), one-dimensional arrays (`[String]` → `text[]`, `[Int]` →
/// `int8[]`, `[String?]`, `[UUID]`, …) and `RawRepresentable` enums (declare the conformance,
/// the raw value is sent). `String` is sent as `text`: for an enum or domain column cast in SQL
/// (`$1::order_side`).
public protocol PostgresEncodable: Sendable {
    /// The type sent for a value of this Swift type, and for its `nil` when it is optional.
    static var postgresDataType: PostgresDataType { get }
    /// The value as a parameter.
    var postgresValue: PostgresValue { get }
    /// The parameter for an array of this type. The default builds an array literal; `UInt8`
    /// overrides it so that `[UInt8]` is `bytea`.
    static func postgresArrayValue(_ elements: [Self]) -> PostgresValue
}

extension PostgresEncodable {
    public static func postgresArrayValue(_ elements: [Self]) -> PostgresValue {
        let values = elements.map(\.postgresValue)
        var arrayType = postgresDataType.arrayType
        if arrayType == nil, let first = values.first(where: { !$0.isNull }) { arrayType = first.type.arrayType }
        return PostgresValue(type: arrayType ?? .unknown, text: PostgresTextFormat.arrayLiteral(values.map(\.text)))
    }
}

extension Int: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .int8 }
    public var postgresValue: PostgresValue { PostgresValue(type: .int8, text: String(self)) }
}

extension Int64: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .int8 }
    public var postgresValue: PostgresValue { PostgresValue(type: .int8, text: String(self)) }
}

extension Int32: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .int4 }
    public var postgresValue: PostgresValue { PostgresValue(type: .int4, text: String(self)) }
}

extension Int16: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .int2 }
    public var postgresValue: PostgresValue { PostgresValue(type: .int2, text: String(self)) }
}

extension UInt8: PostgresEncodable {
    /// A lone byte is a small integer; an array of bytes is `bytea`.
    public static var postgresDataType: PostgresDataType { .int2 }
    public var postgresValue: PostgresValue { PostgresValue(type: .int2, text: String(self)) }
    public static func postgresArrayValue(_ elements: [UInt8]) -> PostgresValue {
        PostgresValue(type: .bytea, text: PostgresTextFormat.byteaHex(elements))
    }
}

extension Double: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .float8 }
    public var postgresValue: PostgresValue {
        let text: String
        if isNaN { text = "NaN" } else if isInfinite { text = self > 0 ? "Infinity" : "-Infinity" } else { text = "\(self)" }
        return PostgresValue(type: .float8, text: text)
    }
}

extension Bool: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .bool }
    public var postgresValue: PostgresValue { PostgresValue(type: .bool, text: self ? "true" : "false") }
}

extension String: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .text }
    public var postgresValue: PostgresValue { PostgresValue(type: .text, text: self) }
}

extension Substring: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .text }
    public var postgresValue: PostgresValue { PostgresValue(type: .text, text: String(self)) }
}

extension Decimal: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .numeric }
    /// Exact: `Decimal`'s own digits, never through `Double`.
    public var postgresValue: PostgresValue {
        PostgresValue(type: .numeric, text: isNaN ? "NaN" : DecimalText.format(self))
    }
}

extension Date: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .timestamptz }
    /// UTC, rounded to the microsecond. A non-finite date is sent as NULL.
    public var postgresValue: PostgresValue {
        PostgresValue(type: .timestamptz, text: PostgresTextFormat.timestamp(self))
    }
}

extension UUID: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .uuid }
    public var postgresValue: PostgresValue { PostgresValue(type: .uuid, text: uuidString.lowercased()) }
}

extension Data: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .bytea }
    public var postgresValue: PostgresValue { PostgresValue(type: .bytea, text: PostgresTextFormat.byteaHex(self)) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { Wrapped.postgresDataType }
    public var postgresValue: PostgresValue {
        switch self {
        case .some(let v): v.postgresValue
        case .none: PostgresValue(type: Wrapped.postgresDataType, text: nil)
        }
    }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// The array type of the element type (`[UInt8]`: `bytea`).
    public static var postgresDataType: PostgresDataType {
        Element.self == UInt8.self ? .bytea : (Element.postgresDataType.arrayType ?? .unknown)
    }
    public var postgresValue: PostgresValue { Element.postgresArrayValue(self) }
}

extension PostgresEncodable where Self: RawRepresentable, RawValue: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { RawValue.postgresDataType }
    public var postgresValue: PostgresValue { rawValue.postgresValue }
}
