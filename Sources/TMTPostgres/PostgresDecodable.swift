import TMTBase

/// A Swift type that a result column decodes into, from PostgreSQL's text format.
///
/// The same types as `PostgresEncodable` are supported. A NULL decodes only into an optional;
/// into anything else it is an error naming the column (`column 'balance': expected numeric,
/// got NULL`). Integers accept any integer column (and a `numeric` with no fraction, such as
/// `sum(int8)`), with overflow reported; `Decimal` is exact and refuses a value it would have to
/// round; `String` accepts any column's text.
public protocol PostgresDecodable: Sendable {
    /// The PostgreSQL type named in error messages (e.g. `numeric`).
    static var postgresTypeName: String { get }
    /// Decodes a non-NULL value from its text. Return `nil` when the text is not a value of this
    /// type, or throw `PostgresDecodingFailure` to give a specific reason; either way the row
    /// turns it into a `TMTError(.decoding, …)` naming the column. Never include the text itself
    /// in the reason: column values can be secrets.
    static func decodePostgres(text: String, type: PostgresDataType) throws -> Self?
    /// The value a NULL decodes into; `nil` (the default) makes NULL an error.
    static var postgresNull: Self? { get }
    /// Decodes an array column into `[Self]`. The default parses an array literal; `UInt8`
    /// overrides it so that `[UInt8]` reads `bytea`.
    static func decodePostgresArray(text: String, type: PostgresDataType) throws -> [Self]?
}

/// Why a value could not be decoded, for a `PostgresDecodable` implementation to throw. The
/// reason must not contain the value.
public struct PostgresDecodingFailure: Error, Sendable, CustomStringConvertible {
    /// E.g. `value out of range for Int32`.
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension PostgresDecodable {
    public static var postgresNull: Self? { nil }

    public static func decodePostgresArray(text: String, type: PostgresDataType) throws -> [Self]? {
        guard let elements = PostgresTextFormat.parseArray(text) else {
            if text.hasPrefix("{{") { throw PostgresDecodingFailure("multi-dimensional arrays are not supported") }
            return nil
        }
        let elementType = type.elementType ?? .unknown
        var out: [Self] = []
        out.reserveCapacity(elements.count)
        for (i, e) in elements.enumerated() {
            guard let e else {
                guard let null = postgresNull else {
                    throw PostgresDecodingFailure("element \(i + 1) is NULL; decode an array of optionals")
                }
                out.append(null)
                continue
            }
            guard let v = try decodePostgres(text: e, type: elementType) else {
                throw PostgresDecodingFailure("element \(i + 1) is not a valid \(postgresTypeName)")
            }
            out.append(v)
        }
        return out
    }
}

extension PostgresDecodable where Self: FixedWidthInteger & SignedInteger {
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> Self? {
        if let v = Self(text) { return v }
        if type.isInteger || type == .unknown || type == .text {
            if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) {
                throw PostgresDecodingFailure("value out of range for \(Self.self)")
            }
            return nil
        }
        if type == .numeric, let canonical = PostgresTextFormat.canonicalDecimal(text) {
            // `sum(int8)` and `numeric(p, 0)` columns come back as numeric.
            guard !canonical.contains(".") else { throw PostgresDecodingFailure("numeric value is not a whole number") }
            guard let v = Self(canonical) else { throw PostgresDecodingFailure("value out of range for \(Self.self)") }
            return v
        }
        return nil
    }
}

extension Int: PostgresDecodable {
    public static var postgresTypeName: String { "int8" }
}

extension Int64: PostgresDecodable {
    public static var postgresTypeName: String { "int8" }
}

extension Int32: PostgresDecodable {
    public static var postgresTypeName: String { "int4" }
}

extension Int16: PostgresDecodable {
    public static var postgresTypeName: String { "int2" }
}

extension UInt8: PostgresDecodable {
    public static var postgresTypeName: String { "int2" }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> UInt8? {
        guard let v = Int(text) else { return nil }
        guard let b = UInt8(exactly: v) else { throw PostgresDecodingFailure("value out of range for UInt8") }
        return b
    }
    /// `bytea` columns (and arrays of small integers).
    public static func decodePostgresArray(text: String, type: PostgresDataType) throws -> [UInt8]? {
        if type == .bytea || (type == .unknown && text.hasPrefix("\\x")) {
            return PostgresTextFormat.parseBytea(text)
        }
        guard let elements = PostgresTextFormat.parseArray(text) else { return nil }
        return try elements.map { e in
            guard let e else { throw PostgresDecodingFailure("array element is NULL") }
            guard let v = try decodePostgres(text: e, type: .int2) else { throw PostgresDecodingFailure("array element is not a small integer") }
            return v
        }
    }
}

extension Double: PostgresDecodable {
    public static var postgresTypeName: String { "float8" }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> Double? {
        // Swift's parser accepts hex floats and other spellings PostgreSQL never prints; only
        // take what a numeric column can hold, so a text column of junk is not "decoded".
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) || ["NaN", "Infinity", "-Infinity"].contains(text) else {
            return nil
        }
        return Double(text)
    }
}

extension Bool: PostgresDecodable {
    public static var postgresTypeName: String { "bool" }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> Bool? {
        switch text {
        case "t", "true": true
        case "f", "false": false
        default: nil
        }
    }
}

extension String: PostgresDecodable {
    public static var postgresTypeName: String { "text" }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> String? { text }
}

extension Decimal: PostgresDecodable {
    public static var postgresTypeName: String { "numeric" }
    /// Exact or an error: a value with more significant digits than `Decimal` holds (38) is
    /// refused rather than rounded.
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> Decimal? {
        if text == "NaN" { return .nan }
        if text == "Infinity" || text == "-Infinity" { throw PostgresDecodingFailure("infinite numeric values do not fit Decimal") }
        if let d = fastDecimal(text) { return d }
        guard let canonical = PostgresTextFormat.canonicalDecimal(text) else { return nil }
        guard let d = Decimal(string: canonical) else { return nil }
        guard PostgresTextFormat.canonicalDecimal(d.description) == canonical else {
            throw PostgresDecodingFailure("more significant digits than Decimal holds exactly (38)")
        }
        return d
    }
}

/// PostgreSQL's numeric text (`-1234.5600`) with at most 19 significant digits, built exactly
/// from its digits (`DecimalText.parse`); nil for anything else, which the general path then
/// handles. Row decoding of prices, balances and P&L is on every read path, and
/// `Decimal(string:)` plus the exactness check was most of an account read's CPU time.
func fastDecimal(_ text: String) -> Decimal? {
    var text = text
    return text.withUTF8 { DecimalText.parse($0) }
}

extension Date: PostgresDecodable {
    public static var postgresTypeName: String { "timestamptz" }
    /// `timestamptz`, `timestamp` (read as UTC) and `date` (midnight UTC) columns.
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> Date? {
        PostgresTextFormat.parseTimestamp(text)
    }
}

extension UUID: PostgresDecodable {
    public static var postgresTypeName: String { "uuid" }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> UUID? {
        UUID(uuidString: text)
    }
}

extension Data: PostgresDecodable {
    public static var postgresTypeName: String { "bytea" }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> Data? {
        guard type == .bytea || type == .unknown else { return nil }
        return PostgresTextFormat.parseBytea(text).map { Data($0) }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static var postgresTypeName: String { Wrapped.postgresTypeName }
    public static var postgresNull: Wrapped?? { .some(nil) }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> Wrapped?? {
        try Wrapped.decodePostgres(text: text, type: type).map { .some($0) }
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    public static var postgresTypeName: String {
        Element.self == UInt8.self ? "bytea" : "\(Element.postgresTypeName)[]"
    }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> [Element]? {
        try Element.decodePostgresArray(text: text, type: type)
    }
}

extension PostgresDecodable where Self: RawRepresentable, RawValue: PostgresDecodable {
    public static var postgresTypeName: String { RawValue.postgresTypeName }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> Self? {
        guard let raw = try RawValue.decodePostgres(text: text, type: type) else { return nil }
        guard let v = Self(rawValue: raw) else { throw PostgresDecodingFailure("not a known \(Self.self) value") }
        return v
    }
}
