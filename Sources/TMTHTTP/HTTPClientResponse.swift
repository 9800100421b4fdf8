import TMTBase

/// A response received by `HTTPClient`.
public struct HTTPClientResponse: Sendable {
    /// The status code as received (not validated beyond being three digits).
    public var status: Int
    /// The reason phrase from the status line.
    public var reasonPhrase: String
    /// The response header fields (case-insensitive lookup).
    public var headers: HTTPHeaders
    /// The body with any chunked framing removed.
    public var body: [UInt8]

    /// The body as UTF-8 text (invalid sequences replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Decodes the JSON body with `HTTPJSON.decoder`; throws `TMTError(.decoding)` naming the
    /// offending field.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        do {
            return try HTTPJSON.decode(T.self, from: body)
        } catch let e as HTTPError {
            throw TMTError(.decoding, "response body: \(e.message)")
        }
    }
}
