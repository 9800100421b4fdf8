/// An HTTP request method (`GET`, `POST`, …). Methods are case-sensitive tokens (RFC 9110 §9.1),
/// so `get` is a different, unknown method from `GET`.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The method token as sent on the request line.
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    // The methods routes commonly use; any other token works via `HTTPMethod("NAME")`.
    public static let get = HTTPMethod("GET")
    public static let head = HTTPMethod("HEAD")
    public static let post = HTTPMethod("POST")
    public static let put = HTTPMethod("PUT")
    public static let delete = HTTPMethod("DELETE")
    public static let patch = HTTPMethod("PATCH")
    public static let options = HTTPMethod("OPTIONS")

    /// The methods metrics label by name; any other method is labelled `OTHER` so a client
    /// inventing methods cannot grow the label set without bound.
    static let labelled: [String] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    /// Index into `labelled`, or `labelled.count` for `OTHER`.
    var labelIndex: Int {
        Self.labelled.firstIndex(of: rawValue) ?? Self.labelled.count
    }

    static func label(at index: Int) -> String {
        index < labelled.count ? labelled[index] : "OTHER"
    }
}
