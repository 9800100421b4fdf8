import Foundation
import TMTCore
import TMTStagingTools

/// Health, metrics and monitoring: what a deployed stack must answer before any trading.
struct StackChecks {
    let endpoints: StackEndpoints
    let report: ToolReport
    let http = HTTPClient(timeout: 10)

    /// Metrics every service exposes (the runtime's), and the ones particular agents must add.
    static let common = ["tmt_service_info", "tmt_service_uptime_seconds", "tmt_http_requests_total", "tmt_heartbeats_sent_total"]
    static let perAgent: [String: [String]] = [
        "wyckoff-analysis": ["tmt_agent_processing_duration_seconds", "tmt_kafka_messages_consumed_total"],
        "aria-risk": ["tmt_agent_processing_duration_seconds", "tmt_kafka_consumer_lag"],
        "compliance-engine": ["tmt_compliance_news_events", "tmt_agent_processing_duration_seconds"],
        "anti-correlation": ["tmt_agent_processing_duration_seconds"],
        "human-behavior": ["tmt_agent_processing_duration_seconds"],
        "circuit-breaker": ["tmt_circuit_breaker_state"],
        "execution-engine": ["tmt_signal_execution_duration_seconds", "tmt_agent_processing_duration_seconds"],
        "continuous-improvement": ["tmt_kafka_messages_consumed_total"],
    ]
    /// The alert rules deployment/staging/monitoring/prometheus/alert_rules.yml defines.
    static let alerts = ["SignalExecutionLatencyBreach", "ServiceDown", "ServiceUptimeBelowSLO", "CircuitBreakerActive",
                         "PerformanceDegradation", "HighCPUUsage", "HighMemoryUsage", "HostMemoryPressure", "DiskSpaceLow",
                         "KafkaConsumerLagHigh", "DeadLetterQueueGrowing", "ServiceRestarted", "DeploymentReportGenerated"]

    func json(_ url: String) throws -> (status: Int, object: Any?) {
        let r = try http.get(url)
        return (r.status, try? JSONSerialization.jsonObject(with: Data(r.body)))
    }

    func health() {
        report.run("health", "gateway /health aggregates every component healthy") {
            let (status, body) = try json(endpoints.gateway + "/health")
            let object = body as? [String: Any]
            let components = object?["components"] as? [[String: Any]] ?? []
            let failing = components.filter { ($0["status"] as? String) != "healthy" }
                .map { "\($0["name"] ?? "?") (\($0["error"] as? String ?? $0["status"] as? String ?? "?"))" }
            try check(status == 200 && failing.isEmpty && !components.isEmpty,
                      "HTTP \(status), \(components.count) components, failing: \(failing.joined(separator: "; "))")
            let agents = Set(endpoints.agents.map(\.name))
            let named = Set(components.compactMap { $0["name"] as? String })
            try check(agents.isSubset(of: named), "components miss \(agents.subtracting(named).sorted())")
            return "\(components.count) components healthy: \(components.compactMap { $0["name"] as? String }.joined(separator: ", "))"
        }
        report.run("health", "gateway /ready") {
            let r = try http.get(endpoints.gateway + "/ready")
            try check(r.status == 200, "HTTP \(r.status): \(r.text.prefix(300))")
            return "200"
        }
        for agent in endpoints.agents {
            report.run("health", "\(agent.name) /health and /ready") {
                let h = try http.get(agent.url + "/health"), r = try http.get(agent.url + "/ready")
                try check(h.status == 200, "/health HTTP \(h.status): \(h.text.prefix(300))")
                try check(r.status == 200, "/ready HTTP \(r.status): \(r.text.prefix(300))")
                let object = try? JSONSerialization.jsonObject(with: Data(h.body)) as? [String: Any]
                return "up, version \(object?["version"] as? String ?? "?")"
            }
        }
    }

    func metrics() {
        for agent in endpoints.agents {
            report.run("metrics", "\(agent.name) /metrics") {
                try checkMetrics(agent.url, names: Self.common + (Self.perAgent[agent.name] ?? []))
            }
        }
        report.run("metrics", "api-gateway /metrics") {
            try checkMetrics(endpoints.gateway, names: Self.common.filter { $0 != "tmt_heartbeats_sent_total" })
        }
    }

    private func checkMetrics(_ base: String, names: [String]) throws -> String {
        let r = try http.get(base + "/metrics")
        try check(r.status == 200, "HTTP \(r.status)")
        try check((r.headers["Content-Type"] ?? "").hasPrefix("text/plain"), "Content-Type \(r.headers["Content-Type"] ?? "none")")
        // A family counts once it is declared (`# TYPE`): a histogram has no samples before its
        // first observation.
        let present = Set(r.text.split(separator: "\n").compactMap { line -> String? in
            if line.hasPrefix("# TYPE ") { return line.split(separator: " ").dropFirst(2).first.map(String.init) }
            guard !line.hasPrefix("#"), let end = line.firstIndex(where: { $0 == "{" || $0 == " " }) else { return nil }
            return String(line[..<end])
        })
        func emitted(_ name: String) -> Bool {
            present.contains(name) || present.contains(name + "_bucket") || present.contains(name + "_count")
        }
        let missing = names.filter { !emitted($0) }
        try check(missing.isEmpty, "missing \(missing.joined(separator: ", ")) (of \(present.count) series names)")
        return "\(present.count) series names incl. \(names.joined(separator: ", "))"
    }

    func monitoring() {
        guard let prometheus = endpoints.prometheus else {
            report.run("monitoring", "Prometheus") { throw ToolReport.Skip("PROMETHEUS_URL is empty") }
            return
        }
        report.run("monitoring", "Prometheus has the staging alert rules") {
            let (status, body) = try json(prometheus + "/api/v1/rules?type=alert")
            try check(status == 200, "HTTP \(status)")
            let groups = ((body as? [String: Any])?["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []
            let names = Set(groups.flatMap { ($0["rules"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } })
            let missing = Self.alerts.filter { !names.contains($0) }
            try check(missing.isEmpty, "missing alert rules \(missing.joined(separator: ", ")); loaded: \(names.sorted().joined(separator: ", "))")
            let health = groups.flatMap { ($0["rules"] as? [[String: Any]] ?? []) }.filter { ($0["health"] as? String) == "err" }
            try check(health.isEmpty, "rules failing to evaluate: \(health.compactMap { $0["name"] as? String })")
            return "\(names.count) alert rules loaded"
        }
        report.run("monitoring", "Prometheus scrapes every service (targets up)") {
            var down: [String] = []
            var up = 0
            // Right after a deploy a target may not have been scraped yet: allow two rounds.
            let deadline = Date().addingTimeInterval(40)
            repeat {
                let (status, body) = try json(prometheus + "/api/v1/targets?state=active")
                try check(status == 200, "HTTP \(status)")
                let targets = ((body as? [String: Any])?["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]] ?? []
                let tmt = targets.filter { (($0["labels"] as? [String: Any])?["job"] as? String ?? "").hasPrefix("tmt-") }
                down = tmt.filter { ($0["health"] as? String) != "up" }.map {
                    "\(($0["labels"] as? [String: Any])?["instance"] ?? "?") (\($0["health"] ?? "?"): \($0["lastError"] as? String ?? ""))"
                }
                up = tmt.count - down.count
                if down.isEmpty, up > 0 { break }
                Thread.sleep(forTimeInterval: 2)
            } while Date() < deadline
            try check(down.isEmpty && up > 0, "\(up) tmt targets up; down: \(down.joined(separator: "; "))")
            return "\(up) tmt targets up"
        }
        guard let alertmanager = endpoints.alertmanager else {
            report.run("monitoring", "Alertmanager") { throw ToolReport.Skip("ALERTMANAGER_URL is empty") }
            return
        }
        report.run("monitoring", "Alertmanager is ready and Prometheus sends to it") {
            let r = try http.get(alertmanager + "/-/ready")
            try check(r.status == 200, "Alertmanager /-/ready HTTP \(r.status)")
            let (status, body) = try json(prometheus + "/api/v1/alertmanagers")
            let active = ((body as? [String: Any])?["data"] as? [String: Any])?["activeAlertmanagers"] as? [[String: Any]] ?? []
            try check(status == 200 && !active.isEmpty, "Prometheus lists no active Alertmanager (HTTP \(status))")
            return "ready; Prometheus sends to \(active.compactMap { $0["url"] as? String }.joined(separator: ", "))"
        }
    }
}
