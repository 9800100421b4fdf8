import TMTBase
import TMTCore

/// Builds a JSON object from members that are already JSON: rows PostgreSQL rendered with
/// `jsonb_build_object` (exact numerics, no round trip through `Double`) next to values encoded
/// with `HTTPJSON`. Members keep the order they are added in.
struct RawJSON: Sendable {
    private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    /// Adds `key` with a JSON text (`null` when nil).
    mutating func raw(_ key: String, _ json: String?) {
        member(key)
        bytes.append(contentsOf: (json ?? "null").utf8)
    }

    /// Adds `key` with a JSON array of JSON texts.
    mutating func array(_ key: String, _ items: [String]) {
        member(key)
        bytes.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: item.utf8)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Adds `key` with `value` encoded by `HTTPJSON`.
    mutating func value<T: Encodable>(_ key: String, _ value: T) throws {
        member(key)
        bytes.append(contentsOf: try HTTPJSON.encode(value))
    }

    private mutating func member(_ key: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(contentsOf: (try? HTTPJSON.encode(key)) ?? Array("\"\"".utf8))
        bytes.append(UInt8(ascii: ":"))
    }

    /// The finished object as a 200 (or `status`) JSON response.
    func response(status: HTTPStatus = .ok) -> HTTPResponse {
        .bytes(bytes + [UInt8(ascii: "}")], contentType: "application/json", status: status)
    }
}

/// Whether bytes are a JSON document, and of which shape (an object or an array at the top; bare
/// scalars are not documents here, as `JSONSerialization` without `.fragmentsAllowed` had it).
enum JSONCheck {
    enum Shape: Equatable { case object, array }

    static func shape(_ bytes: [UInt8]) -> Shape? {
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return nil }
        let data = Data(bytes)
        switch first {
        case UInt8(ascii: "{"): return (try? JSONDecoder().decode([String: AnyJSON].self, from: data)) == nil ? nil : .object
        case UInt8(ascii: "["): return (try? JSONDecoder().decode([AnyJSON].self, from: data)) == nil ? nil : .array
        default: return nil
        }
    }

    /// Any JSON value, read and dropped.
    private struct AnyJSON: Decodable {
        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            if let object = try? decoder.container(keyedBy: Key.self) {
                for key in object.allKeys { _ = try object.decode(AnyJSON.self, forKey: key) }
                return
            }
            if var array = try? decoder.unkeyedContainer() {
                while !array.isAtEnd { _ = try array.decode(AnyJSON.self) }
                return
            }
            let value = try decoder.singleValueContainer()
            if value.decodeNil() || (try? value.decode(Bool.self)) != nil || (try? value.decode(Double.self)) != nil { return }
            _ = try value.decode(String.self)
        }
    }
}
