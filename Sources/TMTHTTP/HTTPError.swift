/// An error a handler throws to answer with a specific status and a JSON error body
/// `{"error":{"code":"…","message":"…"}}`.
///
/// The message is sent to the client, so it must not contain secrets or echo query parameter
/// values. Anything else a handler throws becomes a generic 500 and is only logged.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The response status.
    public var status: HTTPStatus
    /// A stable, machine-readable code such as `not_found` or `invalid_body`.
    public var code: String
    /// A human-readable explanation, safe to show to the client.
    public var message: String
    /// Extra response headers (e.g. `Retry-After` on a 503).
    public var headers: HTTPHeaders

    /// An error with `status`; `code` defaults to a snake-case name for the status
    /// (`bad_request`, `not_found`, …).
    public init(_ status: HTTPStatus, code: String? = nil, message: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.code = code ?? Self.defaultCode(status)
        self.message = message
        self.headers = headers
    }

    public var description: String { "HTTP \(status.code) \(code): \(message)" }

    /// The JSON error response for this error.
    public var response: HTTPResponse {
        var r = HTTPResponse.error(status: status, code: code, message: message)
        for f in headers { r.headers.add(f.name, f.value) }
        return r
    }

    /// 400 Bad Request.
    public static func badRequest(_ message: String, code: String = "bad_request") -> HTTPError {
        HTTPError(.badRequest, code: code, message: message)
    }

    /// 404 Not Found.
    public static func notFound(_ message: String, code: String = "not_found") -> HTTPError {
        HTTPError(.notFound, code: code, message: message)
    }

    /// 409 Conflict (e.g. an order already in a final state).
    public static func conflict(_ message: String, code: String = "conflict") -> HTTPError {
        HTTPError(.conflict, code: code, message: message)
    }

    /// 422 Unprocessable Content: well-formed but semantically invalid input.
    public static func unprocessable(_ message: String, code: String = "unprocessable") -> HTTPError {
        HTTPError(.unprocessableContent, code: code, message: message)
    }

    /// 403 Forbidden.
    public static func forbidden(_ message: String, code: String = "forbidden") -> HTTPError {
        HTTPError(.forbidden, code: code, message: message)
    }

    /// 503 Service Unavailable (a dependency is down; the client may retry).
    public static func serviceUnavailable(_ message: String, code: String = "unavailable") -> HTTPError {
        HTTPError(.serviceUnavailable, code: code, message: message)
    }

    static func defaultCode(_ status: HTTPStatus) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 408: "request_timeout"
        case 409: "conflict"
        case 413: "content_too_large"
        case 414: "uri_too_long"
        case 415: "unsupported_media_type"
        case 417: "expectation_failed"
        case 422: "unprocessable"
        case 429: "too_many_requests"
        case 431: "header_fields_too_large"
        case 500: "internal"
        case 501: "not_implemented"
        case 503: "unavailable"
        case 505: "http_version_not_supported"
        default: "http_\(status.code)"
        }
    }
}
