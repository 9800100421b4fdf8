import Foundation
import TMTCore

/// Bearer-token check for the mutating endpoints. The token comes from `IMPROVEMENT_API_TOKEN`
/// or the file named by `IMPROVEMENT_API_TOKEN_FILE` and is never logged. Without one, the
/// mutating endpoints answer 503 naming the setting (a rollout must not be startable by anyone
/// who can reach the port).
struct APIToken: Sendable {
    let token: String?

    /// Returns the actor to record (the `X-Operator` header, else `api`), or throws 401/503.
    func authorize(_ request: HTTPRequest) throws -> String {
        guard let token, !token.isEmpty else {
            throw HTTPError(.serviceUnavailable, code: "not_configured",
                            message: "mutating endpoints are disabled: set IMPROVEMENT_API_TOKEN (or IMPROVEMENT_API_TOKEN_FILE)")
        }
        let challenge: HTTPHeaders = ["WWW-Authenticate": "Bearer realm=\"continuous-improvement\""]
        guard let header = request.headers["Authorization"], header.lowercased().hasPrefix("bearer ") else {
            throw HTTPError(.unauthorized, code: "unauthorized", message: "a bearer token is required", headers: challenge)
        }
        let presented = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard Self.constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
            throw HTTPError(.unauthorized, code: "unauthorized", message: "the bearer token is not valid", headers: challenge)
        }
        let name = request.headers["X-Operator"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let safe = name.prefix(64).filter { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) }
        return safe.isEmpty ? "api" : String(safe)
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
