import Foundation
import TMTCore
import XCTest

/// deployment/staging/deploy-staging.sh in native mode, for real, on the staging ports (5433,
/// 5434, 6380, 8000–8008, 3000, 9091, 9094, 9100; the state in a temporary folder): deploy with market
/// data → refusal without --force → health-check.sh → Prometheus (every target up, the latency
/// histogram answers with fills, every metric the dashboards and alerts use is emitted) →
/// backup, change, restore → --force redeploy → --stop leaves nothing running; and a deploy whose
/// service cannot start stops everything again and, with --cleanup-volumes, removes the data.
///
/// Uses the debug build the test run already has (`--debug --quick`: no release build, and no
/// end-to-end suite, which is this test run itself). Skipped when a stack already holds the
/// staging ports (e.g. a developer's `scripts/stack.sh`).
final class NativeDeploymentTests: XCTestCase {
    static let script = TestServices.repoRoot.appendingPathComponent("deployment/staging/deploy-staging.sh").path

    var folder: URL!
    var environment: [String: String] = [:]

    override func setUpWithError() throws {
        try XCTSkipIf(Self.portInUse(8000) || Self.portInUse(5433) || Self.portInUse(5434), "the staging ports are taken (a stack is running); stop it to run this test")
        // World-traversable, so the postgres user reaches its data folder.
        folder = URL(fileURLWithPath: "/tmp/tmt-deploy-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        environment = ["TMT_STACK_DIR": folder.appendingPathComponent("stack").path, "TMT_REPORTS_DIR": folder.appendingPathComponent("reports").path,
                       "HUMAN_DELAY_SCALE": "0", "GENERATOR_RATE": "2000", "LOG_LEVEL": "info"]
    }

    override func tearDownWithError() throws {
        guard let folder else { return }
        _ = try? deploy(["--native", "--stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    static func portInUse(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    @discardableResult
    func deploy(_ arguments: [String], extra: [String: String] = [:]) throws -> Tool.Result {
        try Tool.run(Self.script, arguments, environment: environment.merging(extra) { _, b in b })
    }

    func script(_ name: String, _ arguments: [String]) throws -> Tool.Result {
        try Tool.run(TestServices.repoRoot.appendingPathComponent("scripts/\(name)").path, arguments, environment: environment)
    }

    func prometheus(_ path: String) throws -> [String: Any] {
        let r = try HTTPClient(timeout: 10).get("http://127.0.0.1:9091" + path)
        return (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
    }

    func testNativeDeployHealthBackupRestoreForceAndStop() throws {
        // Deploy, with market data flowing.
        let deployed = try deploy(["--native", "--debug", "--quick", "--with-data", "--timeout", "300"])
        XCTAssertEqual(deployed.status, 0, deployed.output)
        for line in ["Trading Dashboard     http://127.0.0.1:3000", "API gateway           http://127.0.0.1:8000", "Prometheus            http://127.0.0.1:9091",
                     "Alertmanager          http://127.0.0.1:9094"] {
            XCTAssertTrue(deployed.output.contains(line), "no access point '\(line)':\n\(deployed.output)")
        }
        let reports = try FileManager.default.contentsOfDirectory(atPath: environment["TMT_REPORTS_DIR"]!)
        let json = try XCTUnwrap(reports.first { $0.hasSuffix(".json") }, "\(reports)")
        XCTAssertTrue(reports.contains(json.replacingOccurrences(of: ".json", with: ".md")))
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: environment["TMT_REPORTS_DIR"]!)
            .appendingPathComponent(json))) as? [String: Any])
        XCTAssertEqual(report["result"] as? String, "deployed")
        XCTAssertEqual(report["mode"] as? String, "native")
        XCTAssertEqual((report["steps"] as? [[String: Any]])?.compactMap { $0["result"] as? String }.contains("failed"), false)
        XCTAssertEqual((report["health"] as? [String: Any])?["status"] as? String, "healthy")
        XCTAssertNotNil((report["versions"] as? [String: Any])?["swift"] as? String)

        // Safe to run twice: refused without --force, the running stack untouched.
        let again = try deploy(["--native", "--debug", "--quick"])
        XCTAssertEqual(again.status, 4, again.output)
        XCTAssertTrue(again.output.contains("already running"), again.output)

        // health-check.sh: every row ok; --env joins the stack.
        let health = try script("health-check.sh", ["--native"])
        XCTAssertEqual(health.status, 0, health.output)
        XCTAssertTrue(health.output.contains("prometheus targets") && health.output.contains("all healthy"), health.output)
        let env = try deploy(["--env"])
        XCTAssertEqual(env.status, 0, env.output)
        let exports = Dictionary(env.output.split(separator: "\n").compactMap { line -> (String, String)? in
            guard line.hasPrefix("export "), let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[line.index(line.startIndex, offsetBy: 7)..<eq]), String(line[line.index(after: eq)...]).trimmingCharacters(in: CharacterSet(charactersIn: "'")))
        }, uniquingKeysWith: { a, _ in a })
        let databaseURL = try XCTUnwrap(exports["DATABASE_URL"], env.output)
        XCTAssertNotNil(exports["KAFKA_BOOTSTRAP_SERVERS"], env.output)
        XCTAssertNotNil(exports["TMT_API_TOKEN_FILE"], env.output)
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }

        // Prometheus: every target up; the signal-to-fill histogram answers once fills happen.
        var targets: [[String: Any]] = []
        XCTAssertTrue(KafkaWait.until(timeout: 60) {
            targets = ((try? self.prometheus("/api/v1/targets"))?["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]] ?? []
            return targets.count == 12 && targets.allSatisfy { $0["health"] as? String == "up" }
        }, "targets: \(targets.map { "\(($0["labels"] as? [String: Any])?["job"] ?? "?") \($0["health"] ?? "?") \($0["lastError"] ?? "")" })")
        let quantile = "/api/v1/query?query=" + "histogram_quantile(0.95, sum by (le) (rate(tmt_signal_execution_duration_seconds_bucket[5m])))"
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        var p95: String?
        XCTAssertTrue(KafkaWait.until(timeout: 300) {
            let result = ((try? self.prometheus(quantile))?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
            p95 = (result.first?["value"] as? [Any])?.last as? String
            return p95.map { Double($0)?.isFinite == true } ?? false
        }, "no signal-to-fill latency in Prometheus (p95: \(p95 ?? "none"))")
        print("deployed stack: p95 signal → fill \(p95 ?? "-") s")

        // Every metric the dashboards and alert rules use is on some target's /metrics.
        var exposed: Set<String> = ["up"]
        for t in targets {
            guard let url = t["scrapeUrl"] as? String, let text = try? HTTPClient(timeout: 10).get(url).text else { continue }
            for line in text.split(separator: "\n") {
                let l = line.hasPrefix("# TYPE ") ? line.dropFirst(7) : line.hasPrefix("#") ? "" : line
                if let name = l.split(whereSeparator: { $0 == " " || $0 == "{" }).first { exposed.insert(String(name)) }
            }
        }
        let used = try MonitoringConfigTests.metricNamesUsed()
        XCTAssertGreaterThan(used.count, 30)
        let missing = used.filter { name in
            !exposed.contains(name) && !["_bucket", "_count", "_sum"].contains { name.hasSuffix($0) && exposed.contains(String(name.dropLast($0.count))) }
        }
        XCTAssertEqual(missing.sorted(), [], "used by a dashboard or alert rule but emitted by nobody")

        // Backup, a change, restore: the change is gone.
        let backups = folder.appendingPathComponent("backups")
        let backup = try script("backup-staging.sh", ["--native", "--dir", backups.path])
        XCTAssertEqual(backup.status, 0, backup.output)
        let backupDir = try XCTUnwrap(backup.output.split(separator: "\n").last.map(String.init))
        for file in ["trading_staging.dump", "market_data_staging.dump", "redis.rdb", "manifest.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: backupDir + "/" + file), file)
        }
        let marker = "backup-test-\(UUID().uuidString)"
        try pool.execute("INSERT INTO audit_log (actor, action, target, result, detail) VALUES ($1, 'test', '-', 'ok', '{}')", [marker])
        let restored = try script("backup-staging.sh", ["--native", "--restore", backupDir, "--yes"])
        XCTAssertEqual(restored.status, 0, restored.output)
        XCTAssertNil(try pool.queryOne("SELECT 1 AS x FROM audit_log WHERE actor = $1", [marker]), "the restore did not bring back the backed-up state")
        XCTAssertEqual(try script("health-check.sh", ["--native"]).status, 0)

        // --force redeploys over it (here with two ARIA instances, both scraped); --stop leaves
        // nothing running.
        let forced = try deploy(["--native", "--debug", "--quick", "--force", "--skip-tests", "--scale", "aria-risk=2"])
        XCTAssertEqual(forced.status, 0, forced.output)
        XCTAssertTrue(KafkaWait.until(timeout: 60) {
            let active = ((try? self.prometheus("/api/v1/targets"))?["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]] ?? []
            let aria = active.filter { ($0["labels"] as? [String: Any])?["job"] as? String == "tmt-aria-risk" }
            return aria.count == 2 && aria.allSatisfy { $0["health"] as? String == "up" }
        }, "Prometheus does not scrape both ARIA instances (8004, 8104)")
        // (Prometheus needs a scrape round before the restarted targets count as up.)
        var status = Tool.Result(status: -1, output: "")
        XCTAssertTrue(KafkaWait.until(timeout: 60) {
            status = (try? self.deploy(["--native", "--status"])) ?? status
            return status.status == 0
        }, "--status after the forced redeploy: \(status.output)")
        let stopped = try deploy(["--native", "--stop"])
        XCTAssertEqual(stopped.status, 0, stopped.output)
        for port in [8000, 8001, 8008, 3000, 5433, 5434, 6380, 9091, 9094, 9100] { XCTAssertFalse(Self.portInUse(port), "port \(port) still open after --stop") }
        XCTAssertNotEqual(try script("health-check.sh", ["--native"]).status, 0)
    }

    /// A service that cannot start (ARIA with an invalid RISK_MULTIPLIER): exit 1, its log lines
    /// shown, everything stopped, and with --cleanup-volumes the state folder gone.
    func testAFailedDeployStopsEverythingItStarted() throws {
        let failed = try deploy(["--native", "--debug", "--quick", "--skip-tests", "--cleanup-volumes", "--timeout", "120"],
                                extra: ["RISK_MULTIPLIER": "lots"])
        XCTAssertEqual(failed.status, 1, failed.output)
        XCTAssertTrue(failed.output.contains("RISK_MULTIPLIER"), "the failing service's log is not shown:\n\(failed.output)")
        XCTAssertTrue(failed.output.contains("stopping what this deployment started"), failed.output)
        for port in [8000, 8001, 5433, 5434, 6380, 9091] { XCTAssertFalse(Self.portInUse(port), "port \(port) still open after a failed deploy") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: environment["TMT_STACK_DIR"]!), "--cleanup-volumes left the state folder")
        let reports = try FileManager.default.contentsOfDirectory(atPath: environment["TMT_REPORTS_DIR"]!).filter { $0.hasSuffix(".json") }
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: environment["TMT_REPORTS_DIR"]!)
            .appendingPathComponent(try XCTUnwrap(reports.first)))) as? [String: Any])
        XCTAssertEqual(report["result"] as? String, "failed")
    }
}
