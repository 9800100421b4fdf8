import Foundation
import TMTCore
import XCTest

/// Starts `tmt-api-gateway` as a process on the test services, and small HTTP helpers.
enum GatewayTest {
    static let token = "gateway-test-token-\(UUID().uuidString)"

    /// The gateway with the test services, a unique breaker snapshot key unless given, and
    /// `extra` on top (e.g. `AGENT_URLS`). Waits for `/ready`.
    static func start(_ extra: [String: String] = [:]) throws -> AgentProcess {
        var env: [String: String] = [
            "DATABASE_URL": try TestServices.postgresURL(), "MARKET_DATABASE_URL": try TestServices.marketDatabaseURL(),
            "REDIS_URL": try TestServices.redisURL(), "KAFKA_BOOTSTRAP_SERVERS": try TestServices.kafkaBootstrap(),
            "TMT_API_TOKEN": token, "BREAKER_SNAPSHOT_KEY": "tmt:test:gateway:\(UUID().uuidString)",
            "HEALTH_PROBE_TIMEOUT_SECONDS": "2", "BREAKER_COMMAND_TIMEOUT_SECONDS": "3",
            "AGENT_URLS": "circuit-breaker=http://127.0.0.1:\(AgentProcess.freePort())",
            // No dashboard unless a test asks for one: port 3000 may be taken (a running stack).
            "DASHBOARD_PORT": "0",
        ]
        for (k, v) in extra { env[k] = v }
        let gateway = try AgentProcess(executable: "tmt-api-gateway", port: AgentProcess.freePort(), environment: env)
        try gateway.waitUntilReady()
        return gateway
    }

    static func get(_ gateway: AgentProcess, _ path: String) throws -> HTTPClientResponse {
        try HTTPClient(timeout: 20).get(gateway.base + path)
    }

    static func post(_ gateway: AgentProcess, _ path: String, json: String, token: String? = GatewayTest.token,
                     operator name: String? = nil, timeout: Double = 30) throws -> HTTPClientResponse {
        var headers: HTTPHeaders = [:]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        if let name { headers["X-Operator"] = name }
        return try HTTPClient(timeout: timeout).post(gateway.base + path, body: Array(json.utf8), headers: headers)
    }

    /// The body as a JSON object (empty when it is not one).
    static func object(_ r: HTTPClientResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
    }

    /// Asserts the standard error shape and returns its code.
    @discardableResult
    static func assertError(_ r: HTTPClientResponse, _ status: Int, code: String? = nil, mentions: String? = nil,
                            file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertEqual(r.status, status, r.text, file: file, line: line)
        XCTAssertEqual(r.headers["Content-Type"], "application/json", file: file, line: line)
        let error = object(r)["error"] as? [String: Any] ?? [:]
        let actual = error["code"] as? String ?? ""
        XCTAssertFalse(actual.isEmpty, "no error.code in \(r.text)", file: file, line: line)
        XCTAssertFalse((error["message"] as? String ?? "").isEmpty, "no error.message in \(r.text)", file: file, line: line)
        if let code { XCTAssertEqual(actual, code, r.text, file: file, line: line) }
        if let mentions { XCTAssertTrue(r.text.contains(mentions), "'\(mentions)' not in \(r.text)", file: file, line: line) }
        return actual
    }

    /// Every POST path of docs/api/openapi.yaml, path parameters filled with a placeholder.
    static func mutatingRoutes() throws -> [String] {
        try specRoutes().filter { $0.hasPrefix("POST ") }.map {
            $0.dropFirst(5).split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(":") ? "exp-placeholder" : String($0) }.joined(separator: "/")
        }.sorted()
    }

    /// The routes in docs/api/openapi.yaml as `METHOD /pattern` (path templates `{id}` as `:id`).
    static func specRoutes() throws -> Set<String> {
        let text = try String(contentsOf: TestServices.repoRoot.appendingPathComponent("docs/api/openapi.yaml"), encoding: .utf8)
        var routes: Set<String> = []
        var inPaths = false
        var path: String?
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
            if !line.hasPrefix(" ") { inPaths = line == "paths:"; path = nil; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast()).replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let p = path {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if line.hasSuffix(":"), methods.contains(String(key)) { routes.insert("\(key.uppercased()) \(p)") }
            }
        }
        return routes
    }
}
