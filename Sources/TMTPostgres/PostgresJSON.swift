import TMTBase

/// A JSON document, sent as `jsonb` and read from `json`/`jsonb` (or text) columns.
///
/// Holds the JSON text as is; `init(encoding:)` and `decode(_:)` bridge to `Codable`.
public struct PostgresJSON: Sendable, Hashable, CustomStringConvertible {
    /// The JSON text.
    public var text: String

    /// Wraps JSON text that is already serialised. It is not validated here; the server rejects
    /// invalid JSON (SQLSTATE 22P02).
    public init(_ text: String) { self.text = text }

    /// Serialises `value` with `encoder` (default: sorted keys, ISO-8601 dates).
    public init<T: Encodable>(encoding value: T, encoder: JSONEncoder = PostgresJSON.defaultEncoder()) throws {
        do {
            text = String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw TMTError(.encoding, "cannot encode \(T.self) as JSON", detail: "\(error)")
        }
    }

    /// Decodes the document into `T` with `decoder` (default: ISO-8601 dates).
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = PostgresJSON.defaultDecoder()) throws -> T {
        do {
            return try decoder.decode(T.self, from: Data(text.utf8))
        } catch {
            // DecodingError's description can quote values; keep it in detail only.
            throw TMTError(.decoding, "JSON does not decode as \(T.self)", detail: "\(error)")
        }
    }

    /// The encoder `init(encoding:)` uses by default.
    public static func defaultEncoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    /// The decoder `decode(_:)` uses by default.
    public static func defaultDecoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }

    /// Never shows the document (it may hold personal or secret data).
    public var description: String { "<json, \(text.utf8.count) bytes>" }
}

extension PostgresJSON: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .jsonb }
    public var postgresValue: PostgresValue { PostgresValue(type: .jsonb, text: text) }
}

extension PostgresJSON: PostgresDecodable {
    public static var postgresTypeName: String { "jsonb" }
    public static func decodePostgres(text: String, type: PostgresDataType) throws -> PostgresJSON? {
        PostgresJSON(text)
    }
}
