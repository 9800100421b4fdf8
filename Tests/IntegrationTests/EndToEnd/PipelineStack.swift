import Foundation
import TMTCore
import XCTest

/// The whole pipeline as processes on the test services: every agent with its own consumer
/// groups (unique per run), three fresh accounts on the three staging firms, and the configs the
/// run needs in a temporary folder. The end-to-end and scale-out tests build on it.
final class PipelineStack {
    /// One agent: executable, the topic whose lag metric shows it joined its group.
    struct AgentSpec {
        var executable: String
        var service: String
        var joinedTopic: String
    }

    static let agents: [AgentSpec] = [
        AgentSpec(executable: "tmt-wyckoff-analysis", service: "wyckoff-analysis", joinedTopic: "market.ticks"),
        AgentSpec(executable: "tmt-aria-risk", service: "aria-risk", joinedTopic: "signals.generated"),
        AgentSpec(executable: "tmt-compliance-engine", service: "compliance-engine", joinedTopic: "orders.proposed"),
        AgentSpec(executable: "tmt-anti-correlation", service: "anti-correlation", joinedTopic: "orders.approved"),
        AgentSpec(executable: "tmt-human-behavior", service: "human-behavior", joinedTopic: "orders.decorrelated"),
        AgentSpec(executable: "tmt-circuit-breaker", service: "circuit-breaker", joinedTopic: "orders.humanized"),
        AgentSpec(executable: "tmt-execution-engine", service: "execution-engine", joinedTopic: "orders.cleared"),
        AgentSpec(executable: "tmt-continuous-improvement", service: "continuous-improvement", joinedTopic: "executions.fills"),
    ]

    let run: String
    let folder: URL
    let accounts: [(id: String, firm: String, initial: Decimal)]
    let bootstrap: String
    let databaseURL: String
    let marketURL: String
    let redisURL: String
    private(set) var processes: [String: [AgentProcess]] = [:]
    var environment: [String: String]

    /// - Parameter breakerYAML: extra lines for the breaker's config (rosters are filled in).
    init(breakerYAML: String = "") throws {
        run = String(UUID().uuidString.prefix(6)).lowercased()
        bootstrap = try TestServices.kafkaBootstrap()
        databaseURL = try TestServices.postgresURL()
        marketURL = try TestServices.marketDatabaseURL()
        redisURL = try TestServices.redisURL()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tmt-e2e-\(run)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        accounts = [("e2e-\(run)-ftmo", "ftmo-like", 100_000), ("e2e-\(run)-strict", "strict-4-8", 50_000),
                    ("e2e-\(run)-trail", "trailing-6", 50_000)]
        // The staging firms as they are; fresh account ids so earlier runs cannot interfere.
        var compliance = try String(contentsOf: TestServices.repoRoot.appendingPathComponent("config/compliance-staging.yml"), encoding: .utf8)
        for (old, new) in zip(["acct-ftmo-100k", "acct-strict-50k", "acct-trail-50k"], accounts.map(\.id)) {
            XCTAssertTrue(compliance.contains("id: \(old)"), "config/compliance-staging.yml no longer has \(old)")
            compliance = compliance.replacingOccurrences(of: "id: \(old)", with: "id: \(new)")
        }
        let compliancePath = folder.appendingPathComponent("compliance.yml").path
        try compliance.write(toFile: compliancePath, atomically: true, encoding: .utf8)
        let breaker = """
        monitored_agents:
          - wyckoff-analysis
          - continuous-improvement
        accounts:
        \(accounts.map { "  - \($0.id)" }.joined(separator: "\n"))
        \(breakerYAML)
        """
        let breakerPath = folder.appendingPathComponent("circuit-breaker.yml").path
        try breaker.write(toFile: breakerPath, atomically: true, encoding: .utf8)
        environment = [
            "DATABASE_URL": databaseURL, "MARKET_DATABASE_URL": marketURL, "REDIS_URL": redisURL,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_AUTO_OFFSET_RESET": "latest",
            "COMPLIANCE_CONFIG": compliancePath, "PAPER_TRADING": "true", "MT4_ENABLED": "false",
            "HEARTBEAT_INTERVAL_SECONDS": "1", "BREAKER_SNAPSHOT_KEY": "tmt:e2e:\(run):breaker",
            // As staged: the execution engine's quote board, this run's own key.
            "MARKET_QUOTES": "redis", "MARKET_QUOTES_KEY": "tmt:e2e:\(run):quotes",
            "CONFIG_DIR": folder.path, "LOG_LEVEL": "info",
            // Continuous improvement's analytics follow the fills; its shadow cycle (CPU-heavy,
            // tested on its own) stays out of the way of the pipeline under test.
            "IMPROVEMENT_SHADOW_INTERVAL_SECONDS": "86400",
        ]
    }

    deinit {
        for list in processes.values { for p in list where p.process.isRunning { _ = p.terminate(timeout: 10) } }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Starts one instance of `spec` (consumer group `e2e-<run>-<service>`), waits for `/ready`.
    @discardableResult
    func start(_ spec: AgentSpec, extra: [String: String] = [:]) throws -> AgentProcess {
        var env = environment
        env["CONSUMER_GROUP"] = "e2e-\(run)-\(spec.service)"
        if spec.service == "circuit-breaker" { env["CONFIG_FILE"] = folder.appendingPathComponent("circuit-breaker.yml").path }
        for (k, v) in extra { env[k] = v }
        let agent = try AgentProcess(executable: spec.executable, port: AgentProcess.freePort(), environment: env)
        processes[spec.service, default: []].append(agent)
        try agent.waitUntilReady(timeout: 90)
        return agent
    }

    /// Waits until `agent` consumes its input topic (its group's lag gauge exists).
    func waitJoined(_ agent: AgentProcess, _ spec: AgentSpec, timeout: Double = 60) -> Bool {
        KafkaWait.until(timeout: timeout) {
            ((try? agent.metrics()) ?? "").contains("tmt_kafka_consumer_lag{topic=\"\(spec.joinedTopic)\"")
        }
    }

    /// The bearer token of the gateway `startGateway` starts.
    let gatewayToken = "e2e-token-\(UUID().uuidString)"

    /// `tmt-api-gateway` in front of the running agents (AGENT_URLS lists each service's first
    /// instance), the dashboard on `dashboardPort`; waits for `/ready`.
    func startGateway(dashboardPort: Int) throws -> AgentProcess {
        var env = environment
        env["TMT_API_TOKEN"] = gatewayToken
        env["DASHBOARD_PORT"] = String(dashboardPort)
        env["AGENT_URLS"] = PipelineStack.agents.compactMap { spec in first(spec.service).map { "\(spec.service)=\($0.base)" } }
            .joined(separator: ",")
        env["HEALTH_PROBE_TIMEOUT_SECONDS"] = "3"
        env["BREAKER_COMMAND_TIMEOUT_SECONDS"] = "20"
        env["DAY_RESET_TIMEOUT_SECONDS"] = "30"
        env["STREAM_HEARTBEAT_SECONDS"] = "2"
        let gateway = try AgentProcess(executable: "tmt-api-gateway", port: AgentProcess.freePort(), environment: env)
        processes["api-gateway", default: []].append(gateway)
        try gateway.waitUntilReady(timeout: 60)
        return gateway
    }

    func first(_ service: String) -> AgentProcess? { processes[service]?.first { $0.process.isRunning } }

    /// The tail of every agent's log, for failure messages.
    func logs(_ limit: Int = 2500) -> String {
        processes.sorted { $0.key < $1.key }.flatMap { service, list in
            list.map { "----- \(service) (port \($0.port))\n" + String($0.log.suffix(limit)) }
        }.joined(separator: "\n")
    }

    /// Runs `tmt-data-generator` with `arguments` (bootstrap and database added) in the background.
    func generator(_ arguments: [String]) throws -> AgentProcess {
        try AgentProcess(executable: "tmt-data-generator", port: AgentProcess.freePort(),
                         environment: ["DATABASE_URL": databaseURL, "KAFKA_BOOTSTRAP_SERVERS": bootstrap],
                         arguments: arguments + ["--bootstrap", bootstrap])
    }

    /// A Tuesday 07:00 UTC far from any other test's market data: 2020-01-07 plus a random
    /// number of weeks, so repeated runs on one machine do not share bar history.
    static func tuesdayMorning() -> (iso: String, micros: Int64) {
        let weeks = Int64.random(in: 0..<300)
        let micros = (1_578_380_400 + weeks * 7 * 86_400) * 1_000_000
        let f = ISO8601DateFormatter()
        return (f.string(from: Date(timeIntervalSince1970: Double(micros) / 1e6)), micros)
    }
}
