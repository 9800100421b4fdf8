/// One query parameter: PostgreSQL's text representation of a value and its type.
///
/// Values are always sent separately from the SQL text (`PQexecParams`), so they are data and
/// never SQL. You rarely build one yourself: every `PostgresEncodable` type produces one.
///
/// `description` never shows the value (parameters may be secrets); read `text` on purpose.
public struct PostgresValue: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The type the server is told the parameter has; `.unknown` lets it infer one.
    public var type: PostgresDataType
    /// The text representation; `nil` is SQL NULL.
    public var text: String?

    public init(type: PostgresDataType, text: String?) {
        self.type = type
        self.text = text
    }

    /// An untyped NULL (the server infers the type).
    public static let null = PostgresValue(type: .unknown, text: nil)

    /// A NULL of a given type, for contexts where the server cannot infer one.
    public static func null(_ type: PostgresDataType) -> PostgresValue {
        PostgresValue(type: type, text: nil)
    }

    /// Whether this is SQL NULL.
    public var isNull: Bool { text == nil }

    public var description: String { text == nil ? "NULL::\(type)" : "<\(type) value>" }
    public var debugDescription: String { description }
}

extension PostgresValue: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .unknown }
    public var postgresValue: PostgresValue { self }
}
