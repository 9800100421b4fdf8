/// What a handler answers: a status, headers and either a complete body or a stream.
///
/// The server owns framing: it sets `Content-Length` (or chunked encoding for streams),
/// `Date` and `Connection` itself and ignores those fields if a handler sets them. Header values
/// are sanitised on the way out: CR, LF and NUL are removed, and fields with invalid names are
/// dropped, so no value a handler copies from user input can split the response.
public struct HTTPResponse: Sendable {
    /// A response body.
    public enum Body: Sendable {
        /// A complete body, sent with `Content-Length`.
        case bytes([UInt8])
        /// A body produced while the connection is open (Server-Sent Events, long downloads).
        /// The closure runs on the connection's thread and returns when the stream is done; the
        /// writer's methods throw once the client has gone or the server is shutting down. Sent
        /// with chunked encoding to HTTP/1.1 clients (the connection stays usable afterwards) and
        /// delimited by closing the connection for HTTP/1.0 clients.
        case stream(@Sendable (HTTPStreamWriter) throws -> Void)
    }

    /// The status code and reason phrase.
    public var status: HTTPStatus
    /// Header fields the handler sets (framing fields are the server's; see above).
    public var headers: HTTPHeaders
    /// The body: complete bytes or a stream.
    public var body: Body

    /// A response with a complete body (empty by default).
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    /// A streaming response; see `Body.stream`.
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], stream: @escaping @Sendable (HTTPStreamWriter) throws -> Void) {
        self.status = status
        self.headers = headers
        self.body = .stream(stream)
    }

    /// The complete body, or empty for a stream.
    public var bodyBytes: [UInt8] {
        if case .bytes(let b) = body { return b }
        return []
    }

    /// A UTF-8 text body; content type `text/plain; charset=utf-8` unless given.
    public static func text(_ text: String, status: HTTPStatus = .ok, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }

    /// Raw bytes with the given content type.
    public static func bytes(_ bytes: [UInt8], contentType: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: bytes)
    }

    /// `value` encoded with `HTTPJSON.encoder` (sorted keys, ISO 8601 dates), content type
    /// `application/json`. Throws `TMTError(.encoding)` if the value cannot be encoded, which the
    /// server answers with a 500.
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok) throws -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: try HTTPJSON.encode(value))
    }

    /// The standard JSON error body `{"error":{"code":"…","message":"…"}}`.
    public static func error(status: HTTPStatus, code: String, message: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"],
                     body: HTTPJSON.errorBody(code: code, message: message))
    }

    /// 204 No Content.
    public static var noContent: HTTPResponse { HTTPResponse(status: .noContent) }

    /// A Server-Sent Events stream (`text/event-stream`, not cached, not buffered by proxies).
    /// `produce` writes events with `HTTPStreamWriter.sendEvent` until it returns, the client
    /// disconnects or the server shuts down.
    public static func eventStream(_ produce: @escaping @Sendable (HTTPStreamWriter) throws -> Void) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                            "X-Accel-Buffering": "no"], stream: produce)
    }
}
