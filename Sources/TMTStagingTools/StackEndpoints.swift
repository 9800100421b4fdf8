import Foundation
import TMTCore

/// Where a deployed staging stack answers, from the environment that
/// `deploy-staging.sh --env` prints (native or Docker) or that compose gives the testing
/// profile's containers. Every tool of the testing profile reads the same variables.
public struct StackEndpoints: Sendable {
    public struct Agent: Sendable, Equatable {
        public var name: String
        public var url: String

        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }
    }

    /// `TMT_API_URL`; default `http://127.0.0.1:8000`.
    public var gateway: String
    /// `AGENT_URLS` as `name=url,name=url` (the gateway's variable); default the eight agents on
    /// 127.0.0.1:8001…8008.
    public var agents: [Agent]
    /// `PROMETHEUS_URL`; default `http://127.0.0.1:9091`; empty: not checked.
    public var prometheus: String?
    /// `ALERTMANAGER_URL`; default `http://127.0.0.1:9094`; empty: not checked.
    public var alertmanager: String?
    /// `TMT_API_TOKEN` or `TMT_API_TOKEN_FILE`.
    public var apiToken: String?

    public static let defaultAgents: [Agent] = [
        Agent(name: "circuit-breaker", url: "http://127.0.0.1:8001"),
        Agent(name: "compliance-engine", url: "http://127.0.0.1:8002"),
        Agent(name: "wyckoff-analysis", url: "http://127.0.0.1:8003"),
        Agent(name: "aria-risk", url: "http://127.0.0.1:8004"),
        Agent(name: "execution-engine", url: "http://127.0.0.1:8005"),
        Agent(name: "anti-correlation", url: "http://127.0.0.1:8006"),
        Agent(name: "human-behavior", url: "http://127.0.0.1:8007"),
        Agent(name: "continuous-improvement", url: "http://127.0.0.1:8008"),
    ]

    public init(environment env: Environment = Environment()) throws {
        gateway = Self.trimmed(env.string("TMT_API_URL", default: "http://127.0.0.1:8000"))
        agents = try Self.parseAgents(env.string("AGENT_URLS"))
        // Set but empty: not checked (a stack without monitoring).
        let prom = env.values["PROMETHEUS_URL"] ?? "http://127.0.0.1:9091"
        prometheus = prom.isEmpty ? nil : Self.trimmed(prom)
        let am = env.values["ALERTMANAGER_URL"] ?? "http://127.0.0.1:9094"
        alertmanager = am.isEmpty ? nil : Self.trimmed(am)
        apiToken = try env.secret("TMT_API_TOKEN")
        for (key, url) in [("TMT_API_URL", gateway)] + agents.map({ ("AGENT_URLS (\($0.name))", $0.url) }) {
            guard url.hasPrefix("http://") else { throw TMTError(.configuration, "\(key): '\(url)' is not an http:// URL") }
        }
    }

    /// `name=url,name=url`; nil or empty gives the defaults.
    public static func parseAgents(_ text: String?) throws -> [Agent] {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return defaultAgents }
        return try text.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("http://") else {
                throw TMTError(.configuration, "AGENT_URLS: '\(item)' is not name=http://host:port")
            }
            return Agent(name: parts[0], url: trimmed(parts[1]))
        }
    }

    static func trimmed(_ url: String) -> String {
        var u = url
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }

    /// Whether every host named is the loopback interface (the load tester's guard).
    public static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        // 127.0.0.0/8, written as a dotted quad (not a name that merely starts with "127.").
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
