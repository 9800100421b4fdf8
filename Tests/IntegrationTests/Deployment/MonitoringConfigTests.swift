import Foundation
import XCTest

/// The monitoring configuration as Prometheus's and Alertmanager's own tools read it: both
/// Prometheus configs and the alert rules pass `promtool check`, every alert has a passing
/// `promtool test rules` case, Alertmanager's routing passes `amtool check-config`, and the five
/// Grafana dashboards are provisioned against the Prometheus data source.
final class MonitoringConfigTests: XCTestCase {
    static let monitoring = TestServices.repoRoot.appendingPathComponent("deployment/staging/monitoring")

    func testPrometheusConfigsAndRulesPassPromtool() throws {
        let prometheus = Self.monitoring.appendingPathComponent("prometheus")
        let compose = try Tool.run("promtool", ["check", "config", "prometheus.yml"], in: prometheus)
        XCTAssertEqual(compose.status, 0, compose.output)
        XCTAssertTrue(compose.output.contains("SUCCESS"), compose.output)
        // The native config as the stack runs it: beside the rules, with its target files.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tmt-prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("targets"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["prometheus-native.yml", "alert_rules.yml"] {
            try FileManager.default.copyItem(at: prometheus.appendingPathComponent(file), to: folder.appendingPathComponent(file))
        }
        for job in ["api-gateway", "circuit-breaker", "compliance-engine", "wyckoff-analysis", "aria-risk", "execution-engine",
                    "anti-correlation", "human-behavior", "continuous-improvement"] {
            try #"[{"targets": ["127.0.0.1:8000"]}]"#.write(to: folder.appendingPathComponent("targets/tmt-\(job).json"), atomically: true, encoding: .utf8)
        }
        let native = try Tool.run("promtool", ["check", "config", "prometheus-native.yml"], in: folder)
        XCTAssertEqual(native.status, 0, native.output)
        XCTAssertFalse(native.output.contains("WARNING"), native.output)
        let rules = try Tool.run("promtool", ["check", "rules", "alert_rules.yml"], in: prometheus)
        XCTAssertEqual(rules.status, 0, rules.output)
        XCTAssertTrue(rules.output.contains("SUCCESS: 13 rules found"), rules.output)
    }

    func testEveryAlertHasAPassingPromtoolUnitTest() throws {
        let prometheus = Self.monitoring.appendingPathComponent("prometheus")
        let r = try Tool.run("promtool", ["test", "rules", "tests/alert_rules_test.yml"], in: prometheus)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("SUCCESS"), r.output)
        // Each alert of the rules file is named by at least one firing expectation.
        let rules = try String(contentsOf: prometheus.appendingPathComponent("alert_rules.yml"), encoding: .utf8)
        let tests = try String(contentsOf: prometheus.appendingPathComponent("tests/alert_rules_test.yml"), encoding: .utf8)
        let alerts = rules.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("- alert: ") ? String(t.dropFirst("- alert: ".count)) : nil
        }
        XCTAssertEqual(alerts.count, 13)
        for alert in alerts {
            XCTAssertTrue(tests.contains("alertname: \(alert)\n        exp_alerts:\n          - exp_labels:"), "no firing test for \(alert)")
        }
        // The seed's severities, and the latency alert on the histogram with rate().
        XCTAssertTrue(rules.contains("histogram_quantile(0.95, sum by (le) (rate(tmt_signal_execution_duration_seconds_bucket[5m]))) > 0.1"))
        for severity in ["critical", "warning", "info"] { XCTAssertTrue(rules.contains("severity: \(severity)"), severity) }
    }

    func testAlertmanagerRoutesBySeverity() throws {
        let r = try Tool.run("amtool", ["check-config", "alertmanager/alertmanager.yml"], in: Self.monitoring)
        XCTAssertEqual(r.status, 0, r.output)
        let config = try XCTUnwrap(try Tool.yamlAsJSON(String(contentsOf: Self.monitoring.appendingPathComponent("alertmanager/alertmanager.yml"),
                                                                  encoding: .utf8)) as? [String: Any])
        let routes = (config["route"] as? [String: Any])?["routes"] as? [[String: Any]] ?? []
        XCTAssertEqual(routes.compactMap { ($0["matchers"] as? [String])?.first }, [#"severity="critical""#, #"severity="warning""#, #"severity="info""#])
    }

    func testFiveGrafanaDashboardsOnThePrometheusDataSource() throws {
        let folder = Self.monitoring.appendingPathComponent("grafana/dashboards")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(files, ["infrastructure-health.json", "performance-monitoring.json", "risk-management.json", "system-overview.json",
                               "trading-operations.json"])
        var uids: Set<String> = []
        for file in files {
            let d = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(file))) as? [String: Any], file)
            uids.insert(try XCTUnwrap(d["uid"] as? String, file))
            let panels = d["panels"] as? [[String: Any]] ?? []
            XCTAssertGreaterThanOrEqual(panels.count, 6, file)
            for p in panels {
                XCTAssertEqual((p["datasource"] as? [String: Any])?["uid"] as? String, "tmt-prometheus", "\(file): \(p["title"] ?? "")")
                XCTAssertFalse((p["targets"] as? [[String: Any]] ?? []).isEmpty, "\(file): \(p["title"] ?? "") has no query")
            }
        }
        XCTAssertEqual(uids.count, 5, "dashboard uids must be unique")
        let datasource = try String(contentsOf: Self.monitoring.appendingPathComponent("grafana/provisioning/datasources/prometheus.yml"), encoding: .utf8)
        XCTAssertTrue(datasource.contains("uid: tmt-prometheus") && datasource.contains("url: http://prometheus:9090"))
    }

    /// Every metric name the dashboards' queries and the alert rules' expressions use (label
    /// matchers and `by (…)` groups removed first, so label names do not count).
    static func metricNamesUsed() throws -> Set<String> {
        var expressions: [String] = []
        let dashboards = monitoring.appendingPathComponent("grafana/dashboards")
        for file in try FileManager.default.contentsOfDirectory(atPath: dashboards.path) where file.hasSuffix(".json") {
            let d = try JSONSerialization.jsonObject(with: Data(contentsOf: dashboards.appendingPathComponent(file))) as? [String: Any] ?? [:]
            for p in d["panels"] as? [[String: Any]] ?? [] {
                expressions += (p["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
            }
        }
        let rules = try Tool.yamlAsJSON(String(contentsOf: monitoring.appendingPathComponent("prometheus/alert_rules.yml"), encoding: .utf8))
        for group in (rules as? [String: Any])?["groups"] as? [[String: Any]] ?? [] {
            expressions += (group["rules"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
        }
        var names: Set<String> = []
        let strip = try NSRegularExpression(pattern: #"\{[^}]*\}|\b(by|without)\s*\([^)]*\)"#)
        let metric = try NSRegularExpression(pattern: #"\b(tmt_[a-z0-9_]+|process_[a-z_]+|node_[A-Za-z0-9_]+|up)\b"#)
        for e in expressions {
            let cleaned = strip.stringByReplacingMatches(in: e, range: NSRange(e.startIndex..., in: e), withTemplate: " ")
            for m in metric.matches(in: cleaned, range: NSRange(cleaned.startIndex..., in: cleaned)) {
                names.insert(String(cleaned[Range(m.range, in: cleaned)!]))
            }
        }
        return names
    }

    func testTheMetricNamesUsedAreFoundInTheQueries() throws {
        let names = try Self.metricNamesUsed()
        XCTAssertTrue(names.isSuperset(of: ["tmt_signal_execution_duration_seconds_bucket", "tmt_circuit_breaker_state", "up",
                                            "node_filesystem_avail_bytes", "tmt_deployment_report_timestamp_seconds"]), "\(names.sorted())")
        XCTAssertFalse(names.contains("le") || names.contains("job") || names.contains("agent"), "label names taken for metrics: \(names.sorted())")
    }
}
