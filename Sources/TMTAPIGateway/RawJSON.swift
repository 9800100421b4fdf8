import Foundation
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
