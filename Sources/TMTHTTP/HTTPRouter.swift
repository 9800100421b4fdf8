import TMTBase

/// Maps method + path to a handler.
///
/// Patterns are paths whose segments are literal (`orders`), a parameter (`:id`, matches one
/// non-empty segment) or, as the last segment only, a rest parameter (`*path`, matches the
/// remaining segments, possibly none; its value may contain `..`, so check it before using it
/// as a file name). Fully literal patterns win over patterns with parameters; among the latter
/// the first registered wins. A GET route also answers HEAD (the server drops the body).
///
/// Build the router before starting the server; the server keeps its own copy.
public struct HTTPRouter: Sendable {
    /// A request handler. It runs on the connection's thread, so it may block (a database call);
    /// throw `HTTPError` for a specific status, anything else becomes a generic 500.
    public typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case rest(String)
    }

    struct Route: Sendable {
        let id: Int
        let method: HTTPMethod
        let pattern: String
        let segments: [Segment]
        let isLiteral: Bool
        let maxBodyBytes: Int?
        let handler: Handler
    }

    enum Match {
        case found(Route, [String: String])
        case methodNotAllowed(allow: String)
        case notFound
        case invalidPath
    }

    private(set) var routes: [Route] = []
    /// Fully literal patterns by path, for the common case of a path without escapes.
    private var literalIndex: [String: [Int]] = [:]
    /// Route ids in matching order: literal patterns first, then the rest as registered.
    private var order: [Int] = []

    /// An empty router (every request gets 404).
    public init() {}

    /// Registers `handler` for `method` on `pattern`. `maxBodyBytes` overrides the server's body
    /// limit for this route (nil = the server's). Registering the same method and pattern twice,
    /// or a malformed pattern, is a programming error and traps.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, maxBodyBytes: Int? = nil, _ handler: @escaping Handler) {
        let segments = Self.parsePattern(pattern)
        precondition(!routes.contains { $0.method == method && $0.segments == segments },
                     "route \(method) \(pattern) registered twice")
        precondition(maxBodyBytes.map { $0 >= 0 } ?? true, "maxBodyBytes must not be negative")
        let literal = segments.allSatisfy { if case .literal = $0 { true } else { false } }
        let route = Route(id: routes.count, method: method, pattern: pattern, segments: segments, isLiteral: literal,
                          maxBodyBytes: maxBodyBytes, handler: handler)
        routes.append(route)
        if literal { literalIndex[pattern, default: []].append(route.id) }
        order = routes.filter(\.isLiteral).map(\.id) + routes.filter { !$0.isLiteral }.map(\.id)
    }

    /// Registers a GET route (which also answers HEAD).
    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add(.get, pattern, handler) }
    /// Registers a POST route; `maxBodyBytes` overrides the server's body limit.
    public mutating func post(_ pattern: String, maxBodyBytes: Int? = nil, _ handler: @escaping Handler) {
        add(.post, pattern, maxBodyBytes: maxBodyBytes, handler)
    }
    /// Registers a PUT route; `maxBodyBytes` overrides the server's body limit.
    public mutating func put(_ pattern: String, maxBodyBytes: Int? = nil, _ handler: @escaping Handler) {
        add(.put, pattern, maxBodyBytes: maxBodyBytes, handler)
    }
    /// Registers a PATCH route; `maxBodyBytes` overrides the server's body limit.
    public mutating func patch(_ pattern: String, maxBodyBytes: Int? = nil, _ handler: @escaping Handler) {
        add(.patch, pattern, maxBodyBytes: maxBodyBytes, handler)
    }
    /// Registers a DELETE route.
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { add(.delete, pattern, handler) }

    /// The registered routes as `(method, pattern)`, in registration order.
    public var registeredRoutes: [(method: HTTPMethod, pattern: String)] {
        routes.map { ($0.method, $0.pattern) }
    }

    /// Routes `request` by its method and path and runs the handler: the same dispatch the
    /// server does, minus the network. Sets `pathParameters` and `route`; answers 404, 405 (with
    /// `Allow`) and 400 for a malformed path itself; maps `HTTPError` to its response and any other
    /// error to a generic 500 (logged with `logger` if given).
    public func respond(to request: HTTPRequest, logger: Logger? = nil) -> HTTPResponse {
        switch match(method: request.method, path: request.path) {
        case .found(let route, let params):
            var req = request
            req.pathParameters = params
            req.route = route.pattern
            return Self.invoke(route, req, logger: logger)
        case .methodNotAllowed(let allow):
            return Self.methodNotAllowed(request.method, allow: allow)
        case .notFound:
            return HTTPResponse.error(status: .notFound, code: "not_found", message: "no route for this path")
        case .invalidPath:
            return HTTPResponse.error(status: .badRequest, code: "bad_request", message: "malformed percent-encoding in path")
        }
    }

    static func methodNotAllowed(_ method: HTTPMethod, allow: String) -> HTTPResponse {
        var r = HTTPResponse.error(status: .methodNotAllowed, code: "method_not_allowed",
                                   message: "method \(method.rawValue.prefix(32)) is not allowed here; allowed: \(allow)")
        r.headers["Allow"] = allow
        return r
    }

    static func invoke(_ route: Route, _ request: HTTPRequest, logger: Logger?) -> HTTPResponse {
        do {
            return try route.handler(request)
        } catch let e as HTTPError {
            return e.response
        } catch {
            logger?.error("handler failed", ["method": request.method.rawValue, "route": route.pattern, "error": "\(error)"])
            return HTTPResponse.error(status: .internalServerError, code: "internal", message: "internal server error")
        }
    }

    /// Finds the route for `method` and `path` (percent-encoded, without query).
    func match(method: HTTPMethod, path: String) -> Match {
        if let ids = literalIndex[path], !path.utf8.contains(UInt8(ascii: "%")) {
            for id in ids where routes[id].method == method { return .found(routes[id], [:]) }
        }
        guard path.utf8.first == UInt8(ascii: "/") else { return .notFound }
        var segments: [String] = []
        for raw in path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let s = PercentDecoding.decode(Substring(raw), plusIsSpace: false) else { return .invalidPath }
            segments.append(s)
        }
        if path == "/" { segments = [] }
        var allowed: [HTTPMethod] = []
        var getFallback: (Route, [String: String])?
        for id in order {
            let route = routes[id]
            guard let params = Self.bind(route.segments, segments) else { continue }
            if route.method == method { return .found(route, params) }
            if method == .head && route.method == .get && getFallback == nil { getFallback = (route, params) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if let (route, params) = getFallback { return .found(route, params) }
        if allowed.isEmpty { return .notFound }
        if allowed.contains(.get) && !allowed.contains(.head) { allowed.append(.head) }
        return .methodNotAllowed(allow: allowed.map(\.rawValue).sorted().joined(separator: ", "))
    }

    /// Path parameters if `pattern` matches `path`'s decoded segments.
    static func bind(_ pattern: [Segment], _ path: [String]) -> [String: String]? {
        var params: [String: String] = [:]
        var i = 0
        for seg in pattern {
            switch seg {
            case .literal(let l):
                guard i < path.count, path[i] == l else { return nil }
            case .parameter(let name):
                guard i < path.count, !path[i].isEmpty else { return nil }
                params[name] = path[i]
            case .rest(let name):
                params[name] = path[i...].joined(separator: "/")
                return params
            }
            i += 1
        }
        return i == path.count ? params : nil
    }

    static func parsePattern(_ pattern: String) -> [Segment] {
        precondition(pattern.hasPrefix("/"), "route pattern '\(pattern)' must start with /")
        if pattern == "/" { return [] }
        let parts = pattern.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var segments: [Segment] = []
        var names: Set<String> = []
        for (i, part) in parts.enumerated() {
            if part.hasPrefix(":") || part.hasPrefix("*") {
                let name = String(part.dropFirst())
                precondition(!name.isEmpty, "route pattern '\(pattern)' has a parameter without a name")
                precondition(names.insert(name).inserted, "route pattern '\(pattern)' repeats parameter \(name)")
                if part.hasPrefix("*") {
                    precondition(i == parts.count - 1, "route pattern '\(pattern)': *\(name) must be the last segment")
                    segments.append(.rest(name))
                } else {
                    segments.append(.parameter(name))
                }
            } else {
                segments.append(.literal(String(part)))
            }
        }
        return segments
    }
}
