import Foundation
import XCTest

/// docker-compose.staging.yml, checked without a Docker engine: Debian's docker-compose 1.29
/// validates it (from the repository root and, through deployment/staging/.env, from there, as
/// the seed's commands run), and its normalized form matches the design's tables: services and
/// profiles, container names, host ports, healthchecks, start order, network, volumes, secrets.
final class ComposeFileTests: XCTestCase {
    static let compose = "docker-compose.staging.yml"
    static let agents = ["circuit-breaker-staging": 8001, "compliance-engine-staging": 8002, "wyckoff-staging": 8003,
                         "aria-risk-staging": 8004, "execution-engine-staging": 8005, "anti-correlation-staging": 8006,
                         "human-behavior-staging": 8007, "continuous-improvement-staging": 8008]
    /// Agents that may run several replicas: no fixed container name, no host port.
    static let scalable: Set<String> = ["compliance-engine-staging", "wyckoff-staging", "aria-risk-staging", "anti-correlation-staging",
                                        "human-behavior-staging"]
    /// Host ports (bound to TMT_BIND_ADDRESS, default 127.0.0.1) → container port, per service.
    static let hostPorts: [String: [String: String]] = [
        "api-gateway-staging": ["8000": "8000", "3000": "3000"], "postgres": ["5433": "5432"], "timescaledb": ["5434": "5432"],
        "redis": ["6380": "6379"], "kafka": ["9093": "9093"], "prometheus": ["9091": "9090"], "alertmanager": ["9094": "9093"],
        "grafana": ["3001": "3000"], "pgadmin": ["5051": "80"], "kafka-ui": ["8081": "8080"], "redis-commander": ["8082": "8081"],
    ]

    func normalized(_ arguments: [String] = [], in directory: URL = TestServices.repoRoot) throws -> [String: Any] {
        let r = try Tool.run("docker-compose", arguments + ["config"], in: directory)
        XCTAssertEqual(r.status, 0, r.output)
        return try XCTUnwrap(try Tool.yamlAsJSON(r.output) as? [String: Any])
    }

    func testComposeFileIsValidFromTheRootAndFromDeploymentStaging() throws {
        let root = try Tool.run("docker-compose", ["-f", Self.compose, "config", "-q"])
        XCTAssertEqual(root.status, 0, root.output)
        XCTAssertEqual(root.output.trimmingCharacters(in: .whitespacesAndNewlines), "", "warnings: \(root.output)")
        let staging = TestServices.repoRoot.appendingPathComponent("deployment/staging")
        let fromStaging = try Tool.run("docker-compose", ["config", "-q"], in: staging)
        XCTAssertEqual(fromStaging.status, 0, fromStaging.output)
        let services = try Tool.run("docker-compose", ["config", "--services"], in: staging)
        XCTAssertTrue(services.output.split(separator: "\n").contains("circuit-breaker-staging"), services.output)
        // The project name the seed's `docker exec`/`docker logs` names rely on.
        let env = try String(contentsOf: staging.appendingPathComponent(".env"), encoding: .utf8)
        XCTAssertTrue(env.contains("COMPOSE_PROJECT_NAME=tmt-staging"), env)
    }

    func testServicesPortsNamesHealthchecksAndStartOrderMatchTheDesign() throws {
        let config = try normalized(["-f", Self.compose, "--profile", "data-generation"])
        let services = try XCTUnwrap(config["services"] as? [String: [String: Any]])
        let expected: Set<String> = Set(Self.agents.keys).union([
            "api-gateway-staging", "postgres", "timescaledb", "redis", "kafka", "kafka-init", "prometheus", "alertmanager", "grafana",
            "node-exporter", "pgadmin", "kafka-ui", "redis-commander", "data-generator",
            // docker-compose 1.29's `config` lists every profile's services.
            "integration-tester", "performance-validator", "load-tester",
        ])
        XCTAssertEqual(Set(services.keys), expected)

        for (name, service) in services {
            // Healthchecks everywhere, and every dependency waits for health (or completion).
            let health = service["healthcheck"] as? [String: Any]
            XCTAssertNotNil(health?["test"], "\(name) has no healthcheck")
            for (dependency, condition) in service["depends_on"] as? [String: [String: Any]] ?? [:] {
                let c = condition["condition"] as? String
                XCTAssertTrue(c == "service_healthy" || (dependency == "kafka-init" && c == "service_completed_successfully"),
                              "\(name) → \(dependency): \(c ?? "no condition")")
            }
            XCTAssertEqual((service["networks"] as? [String: Any])?.keys.sorted(), ["tmt-staging"], name)

            // Container names tmt-<service>-staging, except the replicas of scalable agents.
            let container = service["container_name"] as? String
            if Self.scalable.contains(name) {
                XCTAssertNil(container, "\(name) may be scaled: no fixed container name")
            } else {
                let base = name.hasSuffix("-staging") ? String(name.dropLast("-staging".count)) : name
                XCTAssertEqual(container, "tmt-\(base)-staging", name)
            }

            // Host ports exactly as the table, on the loopback address by default; agents none.
            // docker-compose 1.29 normalizes them to HOST_IP:PUBLISHED:TARGET/PROTOCOL.
            let ports = (service["ports"] as? [String] ?? []).map { spec -> (String, String, String) in
                let parts = spec.split(separator: "/").first.map { $0.split(separator: ":").map(String.init) } ?? []
                return parts.count == 3 ? (parts[1], parts[2], parts[0]) : (spec, "", "")
            }
            XCTAssertEqual(Dictionary(ports.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }), Self.hostPorts[name] ?? [:], name)
            XCTAssertTrue(ports.allSatisfy { $0.2 == "127.0.0.1" }, "\(name) publishes beyond loopback: \(ports)")

            // No secret in the file: credentials only through *_FILE variables and secrets.
            for (key, value) in service["environment"] as? [String: Any] ?? [:] {
                let k = key.uppercased()
                if k.contains("PASSWORD") || k.contains("TOKEN") || k.contains("SECRET") {
                    XCTAssertTrue(k.hasSuffix("_FILE"), "\(name): \(key) set in the compose file")
                    XCTAssertTrue("\(value)".hasPrefix("/run/secrets/"), "\(name): \(key)=\(value)")
                }
            }
        }

        // Agents: their design port in the container, /ready as healthcheck, all on the one image,
        // the staging defaults (env file) with paper trading on.
        for (agent, port) in Self.agents {
            let service = try XCTUnwrap(services[agent])
            let env = service["environment"] as? [String: Any] ?? [:]
            XCTAssertEqual("\(env["PORT"] ?? "")", String(port), agent)
            XCTAssertEqual(env["PAPER_TRADING"] as? String, "true", agent)
            XCTAssertEqual(env["MT4_ENABLED"] as? String, "false", agent)
            XCTAssertEqual(env["SIMULATION_MODE"] as? String, "true", agent)
            XCTAssertEqual(env["KAFKA_BOOTSTRAP_SERVERS"] as? String, "kafka:9092", agent)
            let test = (service["healthcheck"] as? [String: Any])?["test"] as? [String] ?? []
            XCTAssertTrue(test.last?.hasSuffix(":\(port)/ready") == true, "\(agent): \(test)")
            XCTAssertTrue((service["image"] as? String ?? "").hasPrefix("tmt-staging:"), agent)
            let depends = Set((service["depends_on"] as? [String: Any] ?? [:]).keys)
            XCTAssertTrue(depends.isSuperset(of: ["postgres", "timescaledb", "redis", "kafka-init"]), "\(agent): \(depends)")
        }
        let gateway = try XCTUnwrap(services["api-gateway-staging"])
        XCTAssertTrue(Set((gateway["depends_on"] as? [String: Any] ?? [:]).keys).isSuperset(of: Self.agents.keys))
        let urls = ((gateway["environment"] as? [String: Any])?["AGENT_URLS"] as? String ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(urls.count, 8)
        for (agent, port) in Self.agents { XCTAssertTrue(urls.contains { $0.hasSuffix("//\(agent):\(port)") }, "\(agent) not in AGENT_URLS") }

        // The testing profile: the three tools, each run once against the stack with its reports
        // in deployment/staging/reports, the gateway healthy first; LOAD_TESTING_ENABLED on and
        // the load tester's targets named.
        let testing = try normalized(["-f", Self.compose, "--profile", "testing"])
        let tools = try XCTUnwrap(testing["services"] as? [String: [String: Any]])
        for (service, executable) in [("integration-tester", "tmt-integration-tester"), ("performance-validator", "tmt-performance-validator"),
                                      ("load-tester", "tmt-load-tester")] {
            let tool = try XCTUnwrap(tools[service], "no \(service) in the testing profile")
            XCTAssertEqual(tool["profiles"] as? [String], ["testing"], service)
            XCTAssertEqual(tool["container_name"] as? String, "tmt-\(service)-staging")
            XCTAssertEqual((tool["command"] as? [String])?.first, executable, service)
            XCTAssertTrue((tool["command"] as? [String] ?? []).contains { $0.hasPrefix("/reports") }, "\(service) writes no report")
            XCTAssertEqual((tool["depends_on"] as? [String: [String: Any]])?["api-gateway-staging"]?["condition"] as? String, "service_healthy")
            XCTAssertEqual(tool["restart"] as? String, "no", service)
            let env = tool["environment"] as? [String: Any] ?? [:]
            XCTAssertEqual(env["TMT_API_URL"] as? String, "http://api-gateway-staging:8000", service)
            XCTAssertEqual(env["TMT_API_TOKEN_FILE"] as? String, "/run/secrets/api_token", service)
            XCTAssertEqual(env["LOAD_TESTING_ENABLED"] as? String, "true", service)
            XCTAssertEqual(env["HUMAN_DELAY_SCALE"] as? String, "0", service)
            XCTAssertEqual((env["AGENT_URLS"] as? String ?? "").split(separator: ",").count, 8, service)
            XCTAssertTrue((tool["volumes"] as? [Any] ?? []).contains { "\($0)".contains("deployment/staging/reports") }, service)
        }

        // Profiles: the generator only with data-generation; the infrastructure always.
        XCTAssertEqual(services["data-generator"]?["profiles"] as? [String], ["data-generation"])
        XCTAssertNil(services["postgres"]?["profiles"])
        XCTAssertEqual((services["timescaledb"]?["image"] as? String)?.hasPrefix("timescale/timescaledb:"), true)
        XCTAssertEqual((services["kafka"]?["environment"] as? [String: Any])?["KAFKA_PROCESS_ROLES"] as? String, "broker,controller",
                       "Kafka runs in KRaft mode")

        // Named volumes for the data, one network, secrets as files.
        XCTAssertEqual((config["networks"] as? [String: Any])?.keys.sorted(), ["tmt-staging"])
        XCTAssertEqual(Set((config["volumes"] as? [String: Any] ?? [:]).keys),
                       ["postgres-data", "timescaledb-data", "redis-data", "kafka-data", "prometheus-data", "alertmanager-data",
                        "grafana-data", "pgadmin-data"])
        for (name, secret) in config["secrets"] as? [String: [String: Any]] ?? [:] {
            XCTAssertTrue((secret["file"] as? String ?? "").hasSuffix("deployment/staging/secrets/\(name)"), name)
        }
    }

    func testPrometheusFindsEveryComposeAgentByDNS() throws {
        let url = TestServices.repoRoot.appendingPathComponent("deployment/staging/monitoring/prometheus/prometheus.yml")
        let config = try XCTUnwrap(try Tool.yamlAsJSON(String(contentsOf: url, encoding: .utf8)) as? [String: Any])
        let jobs = config["scrape_configs"] as? [[String: Any]] ?? []
        for (agent, port) in Self.agents.merging(["api-gateway-staging": 8000], uniquingKeysWith: { a, _ in a }) {
            let sd = jobs.compactMap { ($0["dns_sd_configs"] as? [[String: Any]])?.first }.first { ($0["names"] as? [String]) == [agent] }
            XCTAssertNotNil(sd, "no DNS discovery of \(agent)")
            XCTAssertEqual(sd?["port"] as? Int, port, agent)
        }
    }

    /// The compose deployment creates exactly the topics (and partition counts) of the code's table.
    func testKafkaInitTopicsAreTheCodesTopicTable() throws {
        let listed = try Tool.run(TestServices.executable("tmt-kafka-dev-broker").path, ["--list-topics"])
        XCTAssertEqual(listed.status, 0, listed.output)
        let file = try String(contentsOf: TestServices.repoRoot.appendingPathComponent("deployment/staging/kafka/topics.txt"), encoding: .utf8)
        let lines = file.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map(String.init)
        XCTAssertEqual(lines, listed.output.split(separator: "\n").map(String.init),
                       "deployment/staging/kafka/topics.txt is stale: regenerate it with tmt-kafka-dev-broker --list-topics")
        XCTAssertTrue(lines.contains("market.ticks 6"))
    }
}
