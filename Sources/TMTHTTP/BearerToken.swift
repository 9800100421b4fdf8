import TMTBase

/// The bearer-token check of a service's mutating routes. The token comes from a secret setting
/// (`setting`, or the file `setting_FILE`) and is never logged. Without one, the routes answer 503
/// naming the setting: nothing that changes state may be reachable by anyone who can reach the
/// port.
public struct BearerToken: Sendable {
    /// The configured token, or nil when none is.
    public let token: String?
    /// The environment variable that configures it, named in the 503.
    public let setting: String
    /// The realm of the `WWW-Authenticate` challenge (the service).
    public let realm: String

    public init(token: String?, setting: String, realm: String) {
        self.token = token
        self.setting = setting
        self.realm = realm
    }

    /// Throws 503 when no token is configured, 401 (with a challenge) when the request carries
    /// none or a wrong one.
    public func authorize(_ request: HTTPRequest) throws {
        guard let token, !token.isEmpty else {
            throw HTTPError(.serviceUnavailable, code: "not_configured",
                            message: "mutating endpoints are disabled: set \(setting) (or \(setting)_FILE)")
        }
        let challenge: HTTPHeaders = ["WWW-Authenticate": "Bearer realm=\"\(realm)\""]
        guard let header = request.headers["Authorization"], header.lowercased().hasPrefix("bearer ") else {
            throw HTTPError(.unauthorized, code: "unauthorized", message: "a bearer token is required", headers: challenge)
        }
        let presented = header.dropFirst("bearer ".count).trimmingWhitespace()
        guard Self.constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
            throw HTTPError(.unauthorized, code: "unauthorized", message: "the bearer token is not valid", headers: challenge)
        }
    }

    /// The operator a request names (`X-Operator`, sanitised), or nil.
    public static func operatorHeader(_ request: HTTPRequest) -> String? {
        let safe = sanitise(request.headers["X-Operator"]?.trimmingWhitespace() ?? "")
        return safe.isEmpty ? nil : safe
    }

    /// Letters, digits and `-_.@`, at most 64 characters: safe in logs and audit rows.
    public static func sanitise(_ name: String) -> String {
        String(name.prefix(64).filter { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) })
    }

    /// Compares without an early exit, so the time taken does not reveal a matching prefix.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
