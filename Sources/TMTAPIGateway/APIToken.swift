import Foundation
import TMTCore

/// Bearer-token check for the gateway's mutating routes. The token comes from `TMT_API_TOKEN`
/// or the file named by `TMT_API_TOKEN_FILE` and is never logged. Without one, the mutating
/// routes answer 503 naming the setting: a breaker must not be trippable by anyone who can
/// reach the port.
struct APIToken: Sendable {
    let token: String?

    /// The operator a request names (`X-Operator`, sanitised), or nil.
    static func operatorHeader(_ request: HTTPRequest) -> String? {
        let name = request.headers["X-Operator"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let safe = sanitise(name)
        return safe.isEmpty ? nil : safe
    }

    /// Letters, digits and `-_.@`, at most 64 characters: safe in logs and audit rows.
    static func sanitise(_ name: String) -> String {
        String(name.prefix(64).filter { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) })
    }

    /// Throws 503 when no token is configured, 401 when the request has none or a wrong one.
    func authorize(_ request: HTTPRequest) throws {
        guard let token, !token.isEmpty else {
            throw HTTPError(.serviceUnavailable, code: "not_configured",
                            message: "mutating endpoints are disabled: set TMT_API_TOKEN (or TMT_API_TOKEN_FILE)")
        }
        let challenge: HTTPHeaders = ["WWW-Authenticate": "Bearer realm=\"tmt-api-gateway\""]
        guard let header = request.headers["Authorization"], header.lowercased().hasPrefix("bearer ") else {
            throw HTTPError(.unauthorized, code: "unauthorized", message: "a bearer token is required", headers: challenge)
        }
        let presented = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard Self.constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
            throw HTTPError(.unauthorized, code: "unauthorized", message: "the bearer token is not valid", headers: challenge)
        }
    }

    /// Compares without an early exit, so the time taken does not reveal a matching prefix.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
