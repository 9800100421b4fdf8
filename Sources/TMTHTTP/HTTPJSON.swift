import TMTBase

/// The JSON conventions of every TMT HTTP API: sorted keys (stable bytes), unescaped slashes,
/// dates as RFC 3339 UTC strings with milliseconds (`2026-11-25T16:43:17.123Z`; decoding also
/// accepts them without the fraction).
public enum HTTPJSON {
    /// The shared encoder. Configured once; do not change its options (it is used concurrently).
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Logger.timestamp(date))
        }
        return e
    }()

    /// The shared decoder. Configured once; do not change its options (it is used concurrently).
    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(s) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(s) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an ISO 8601 date")
        }
        return d
    }()

    /// Encodes `value` with the shared encoder; failures become `TMTError(.encoding)`.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw TMTError(.encoding, "cannot encode \(T.self) as JSON", detail: "\(error)")
        }
    }

    /// Decodes a request body. Failures become a 400 `HTTPError` with code `invalid_body` whose
    /// message names the offending field (`missing field 'order.quantity'`), never its value.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        guard !bytes.isEmpty else {
            throw HTTPError.badRequest("request body is empty; expected JSON", code: "invalid_body")
        }
        do {
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw HTTPError.badRequest("missing field '\(path(ctx.codingPath + [key]))'", code: "invalid_body")
        } catch let DecodingError.typeMismatch(t, ctx) {
            throw HTTPError.badRequest("field '\(path(ctx.codingPath))': expected \(typeName(t))", code: "invalid_body")
        } catch let DecodingError.valueNotFound(t, ctx) {
            throw HTTPError.badRequest("field '\(path(ctx.codingPath))': expected \(typeName(t)), found null", code: "invalid_body")
        } catch let DecodingError.dataCorrupted(ctx) {
            if ctx.codingPath.isEmpty {
                throw HTTPError.badRequest("request body is not valid JSON", code: "invalid_body")
            }
            throw HTTPError.badRequest("field '\(path(ctx.codingPath))': invalid value", code: "invalid_body")
        } catch let e as HTTPError {
            throw e
        } catch {
            throw HTTPError.badRequest("request body does not match the expected structure", code: "invalid_body")
        }
    }

    /// A 400 naming the first top-level field of a JSON object body that is not in `allowed`.
    /// A body that is empty or not a JSON object passes (decoding reports those).
    public static func refuseUnknownFields(_ bytes: [UInt8], allowed: Set<String>) throws {
        guard !bytes.isEmpty, let object = try? JSONDecoder().decode(TopLevelKeys.self, from: Data(bytes)) else { return }
        if let unknown = object.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw HTTPError.badRequest("unknown field '\(String(unknown.prefix(64)))'; allowed: \(allowed.sorted().joined(separator: ", "))",
                                       code: "invalid_body")
        }
    }

    /// The member names of a JSON object (its values are not decoded).
    private struct TopLevelKeys: Decodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var keys: [String]
        init(from decoder: any Decoder) throws {
            keys = try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue)
        }
    }

    /// `items[2].price` style path for a coding path.
    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for k in keys {
            if let i = k.intValue, k.stringValue.hasPrefix("Index ") || k.stringValue == String(i) {
                out += "[\(i)]"
            } else {
                if !out.isEmpty { out += "." }
                out += k.stringValue
            }
        }
        return out.isEmpty ? "(root)" : out
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: "string"
        case is Bool.Type: "boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type: "integer"
        case is Double.Type, is Float.Type, is Decimal.Type: "number"
        default:
            "\(t)".hasPrefix("Array") ? "array" : ("\(t)".hasPrefix("Dictionary") ? "object" : "\(t)")
        }
    }

    /// Appends `s` as a JSON string literal (with quotes) to `out`.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(b)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `{"error":{"code":"…","message":"…"}}`.
    static func errorBody(code: String, message: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(40 + code.utf8.count + message.utf8.count)
        out.append(contentsOf: #"{"error":{"code":"#.utf8)
        appendString(code, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        appendString(message, to: &out)
        out.append(contentsOf: "}}".utf8)
        return out
    }
}
