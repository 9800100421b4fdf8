/// A request as a handler sees it: the head parsed and validated, the whole body read.
///
/// Handlers can be unit-tested without a network by building a request with `init` and passing
/// it to `HTTPRouter.respond(to:)`.
public struct HTTPRequest: Sendable {
    /// The method as sent (a HEAD request served by a GET route still says HEAD).
    public var method: HTTPMethod
    /// The path as sent, still percent-encoded, without the query string.
    public var path: String
    /// The query string's items in order, percent-decoded.
    public var query: [HTTPQueryItem]
    /// The request's header fields; lookup is case-insensitive.
    public var headers: HTTPHeaders
    /// The body (empty when there was none).
    public var body: [UInt8]
    /// Values of the route's `:name` and `*name` segments, percent-decoded.
    public var pathParameters: [String: String]
    /// The client's address as `ip:port` (`[ip]:port` for IPv6).
    public var remoteAddress: String
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String
    /// The pattern of the route that matched (e.g. `/api/v1/orders/:id`), empty before routing.
    public var route: String

    /// A request with every field given; for tests and for `HTTPRouter.respond(to:)`.
    public init(method: HTTPMethod, path: String, query: [HTTPQueryItem] = [], headers: HTTPHeaders = [:], body: [UInt8] = [],
                pathParameters: [String: String] = [:], remoteAddress: String = "127.0.0.1:0", version: String = "HTTP/1.1",
                route: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.pathParameters = pathParameters
        self.remoteAddress = remoteAddress
        self.version = version
        self.route = route
    }

    /// A request for `target` (path plus optional `?query`), with the query parsed. Convenient in
    /// tests; a malformed escape in the query leaves `query` empty.
    public init(method: HTTPMethod, target: String, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        let (path, q) = Self.split(target: Substring(target))
        self.init(method: method, path: String(path), query: q.flatMap { PercentDecoding.queryItems($0) } ?? [],
                  headers: headers, body: body)
    }

    /// The first value of query parameter `name`, or nil.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Every value of query parameter `name`, in order.
    public func queryValues(_ name: String) -> [String] {
        query.filter { $0.name == name }.map(\.value)
    }

    /// The value of path parameter `name` (declared as `:name` or `*name` in the route).
    public func parameter(_ name: String) -> String? {
        pathParameters[name]
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Decodes the JSON body; throws a 400 `HTTPError` naming the offending field.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try HTTPJSON.decode(T.self, from: body)
    }

    /// Decodes the JSON body of a command, refusing with a 400 what a typo would otherwise let
    /// through silently: a top-level field not among `fields` (a misspelt optional field reads as
    /// absent, and an absent field may mean "every account") and any query parameter (commands
    /// take their arguments in the body only).
    public func decodeCommand<T: Decodable>(_ type: T.Type = T.self, fields: Set<String>) throws -> T {
        try refuseQuery()
        try HTTPJSON.refuseUnknownFields(body, allowed: fields)
        return try decode(T.self)
    }

    /// A 400 when the request has a query parameter (for endpoints that take none).
    public func refuseQuery() throws {
        guard let first = query.first else { return }
        throw HTTPError.badRequest("unknown query parameter '\(String(first.name.prefix(64)))': this endpoint takes none", code: "invalid_parameter")
    }

    /// Splits a request target into path and query (the query without its `?`).
    static func split(target: Substring) -> (path: Substring, query: Substring?) {
        guard let q = target.firstIndex(of: "?") else { return (target, nil) }
        return (target[..<q], target[target.index(after: q)...])
    }
}
