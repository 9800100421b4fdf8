import Foundation
#if canImport(FoundationXML)
import FoundationXML // XMLParser lives here on Linux (swift-corelibs-foundation)
#endif
import TMTCore
import TMTStagingTools
import XCTest

/// The testing profile's tools, run as their users run them, against the whole pipeline (eight
/// agents and the gateway as processes on the real broker, PostgreSQL and Redis): the
/// integration tester's scenario and reports, the performance validator's figures, both load
/// tester modes, and the refusals that keep them safe. The database is read independently to
/// check that what the tools report happened.
final class StagingToolsTests: XCTestCase {
    func testIntegrationTesterPerformanceValidatorAndLoadTesterAgainstARunningPipeline() throws {
        let stack = try PipelineStack()
        stack.environment["HUMAN_DELAY_SCALE"] = "0"
        var started: [(PipelineStack.AgentSpec, AgentProcess)] = []
        for spec in PipelineStack.agents { started.append((spec, try stack.start(spec))) }
        for (spec, agent) in started {
            XCTAssertTrue(stack.waitJoined(agent, spec), "\(spec.service) never joined its group:\n\(agent.log.suffix(3000))")
        }
        let ids = stack.accounts.map(\.id)
        let breaker = try XCTUnwrap(stack.first("circuit-breaker"))
        XCTAssertTrue(KafkaWait.until(timeout: 60) {
            let m = (try? breaker.metrics()) ?? ""
            return ids.allSatisfy { m.contains("tmt_circuit_breaker_state{tier=\"account\",target=\"\($0)\"} 0") }
                && m.contains("tmt_circuit_breaker_state{tier=\"system\",target=\"system\"} 0")
        }, "the breaker never saw every account and agent healthy:\n\(stack.logs())")
        let gateway = try stack.startGateway(dashboardPort: AgentProcess.freePort())
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: stack.databaseURL), metrics: MetricsRegistry())
        defer { pool.shutdown() }

        let agentURLs = PipelineStack.agents.compactMap { spec in stack.first(spec.service).map { "\(spec.service)=\($0.base)" } }.joined(separator: ",")
        let env = [
            "TMT_API_URL": gateway.base, "TMT_API_TOKEN": stack.gatewayToken, "AGENT_URLS": agentURLs,
            "DATABASE_URL": stack.databaseURL, "MARKET_DATABASE_URL": stack.marketURL, "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap,
            "PROMETHEUS_URL": "", "ALERTMANAGER_URL": "", "LOAD_TESTING_ENABLED": "true", "LOG_LEVEL": "warning",
            // The execution engine's quote board: where the tools' ticks continue from (as
            // `scripts/stack.sh env` gives them).
            "REDIS_URL": stack.redisURL, "MARKET_QUOTES_KEY": try XCTUnwrap(stack.environment["MARKET_QUOTES_KEY"]),
        ]
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("tmt-tools-\(stack.run)")
        defer { try? FileManager.default.removeItem(at: reports) }
        func tool(_ name: String, _ arguments: [String], _ overrides: [String: String] = [:]) throws -> Tool.Result {
            try Tool.run(TestServices.executable(name).path, arguments, environment: env.merging(overrides) { $1 })
        }

        // 1. The integration tester: every check passes (monitoring is not part of this stack).
        let tester = try tool("tmt-integration-tester", ["--report-dir", reports.path, "--accounts", ids.joined(separator: ","), "--timeout", "90"])
        XCTAssertEqual(tester.status, 0, "\(tester.output)\n\(stack.logs())")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: reports.appendingPathComponent("integration-report.json"))) as? [String: Any])
        let cases = try XCTUnwrap(json["cases"] as? [[String: Any]])
        XCTAssertEqual(json["failed"] as? Int, 0, tester.output)
        XCTAssertEqual(json["skipped"] as? Int, 1, "only Prometheus (PROMETHEUS_URL empty) is skipped: \(tester.output)")
        let names = Set(cases.map { "\($0["suite"] ?? "")/\($0["name"] ?? "")" })
        for expected in ["health/gateway /health aggregates every component healthy", "pipeline/fill: a signal is sized, approved, cleared and filled",
                         "pipeline/compliance: an order inside a news blackout is rejected",
                         "pipeline/anti-correlation: one signal for two accounts is acted on",
                         "pipeline/breaker: trip an account, its order is blocked, reset", "metrics/execution-engine /metrics"] {
            XCTAssertTrue(names.contains(expected), "no case \(expected) in \(names.sorted())")
        }
        // The JUnit file is well-formed and lists the same cases.
        final class Counter: NSObject, XMLParserDelegate {
            var testcases = 0, failures = 0
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                if name == "testcase" { testcases += 1 }
                if name == "failure" { failures += 1 }
            }
        }
        let parser = try XCTUnwrap(XMLParser(contentsOf: reports.appendingPathComponent("integration-report.xml")))
        let counter = Counter()
        parser.delegate = counter
        XCTAssertTrue(parser.parse())
        XCTAssertEqual(counter.testcases, cases.count)
        XCTAssertEqual(counter.failures, 0)
        // What it reported happened: its orders in the database, the news release gone again.
        let run = try XCTUnwrap(json["run"] as? String)
        let outcomes = try pool.query("SELECT status, count(*)::bigint AS n FROM orders WHERE id LIKE $1 GROUP BY status", ["\(run)-%"])
            .reduce(into: [String: Int64]()) { $0[try $1.decode(String.self, column: "status")] = try $1.decode(Int64.self, column: "n") }
        XCTAssertGreaterThanOrEqual(outcomes["filled"] ?? 0, 1, "\(outcomes)")
        XCTAssertGreaterThanOrEqual(outcomes["rejected"] ?? 0, 1, "\(outcomes)")
        XCTAssertGreaterThanOrEqual(outcomes["blocked"] ?? 0, 1, "\(outcomes)")
        // The news scenario's order (ids `<run>-news-…`): rejected in its blackout, exactly once.
        // (The tester's other scenarios pass over a candidate the stack's own news calendar
        // blacks out, so a rejection there is an expected detour, not this check's.)
        let rejected = try pool.queryOne("""
            SELECT count(*)::bigint AS n FROM compliance_decisions c, jsonb_array_elements(c.checks) x
            WHERE c.order_id LIKE $1 AND c.verdict = 'rejected' AND x->>'rule' = 'news-blackout' AND NOT (x->>'passed')::boolean
            """, ["\(run)-news-%"])?.decode(Int64.self, column: "n")
        XCTAssertEqual(rejected, 1)
        XCTAssertEqual(try pool.queryOne("SELECT count(*)::bigint AS n FROM news_events WHERE id LIKE $1", ["\(run)%"])?.decode(Int64.self, column: "n"), 0)

        // 2. The performance validator: a short seeded run, figures from the orders and /metrics.
        let figuresFile = reports.appendingPathComponent("performance.json")
        func epochs() throws -> [Int] {
            try pool.query("SELECT epoch FROM accounts WHERE id = ANY($1) ORDER BY id", [ids]).map { try $0.decode(Int.self, column: "epoch") }
        }
        let epochsBefore = try epochs()
        func instrumentBreaker(_ action: String, _ instrument: String) throws {
            let r = try HTTPClient(timeout: 30).post(gateway.base + "/api/v1/breaker/\(action)", body: Array("""
                {"tier":"instrument","target":"\(instrument)","reason":"staging tools test: \(instrument) halted"}
                """.utf8), headers: ["Authorization": "Bearer \(stack.gatewayToken)", "X-Operator": "e2e-\(stack.run)"])
            XCTAssertEqual(r.status, 200, "\(action) \(instrument): \(r.text)")
        }
        // An instrument halted before the run (here by an operator; a gap another tool's ticks
        // left would do the same): the validator opens it first, naming it, or its orders would
        // all be blocked.
        try instrumentBreaker("trip", "XAU_USD")
        let perf = try tool("tmt-performance-validator", ["--rate", "200", "--duration", "8", "--warmup", "2", "--signals-per-second", "4",
                                                          "--signal-accounts", "all",
                                                          "--drain", "30", "--no-sla", "--accounts", ids.joined(separator: ","),
                                                          "--json", figuresFile.path])
        XCTAssertEqual(perf.status, 0, "\(perf.output)\n\(stack.logs())")
        // The run starts from fresh accounts (each restarted once: whatever the integration run
        // left open was dropped) on a new staging day.
        XCTAssertTrue(perf.output.contains("performance-validator: restarted \(ids.joined(separator: ", ")) as fresh challenges"), perf.output)
        XCTAssertEqual(try epochs(), epochsBefore.map { $0 + 1 })
        XCTAssertTrue(perf.output.contains("a new staging day for"), perf.output)
        let reset = try XCTUnwrap(perf.output.split(separator: "\n").first { $0.hasPrefix("performance-validator: reset the instrument breaker of XAU_USD (") },
                                  perf.output)
        XCTAssertTrue(reset.hasPrefix("performance-validator: reset the instrument breaker of XAU_USD (tripped by an operator: ")
                      && reset.hasSuffix("staging tools test: XAU_USD halted)"), String(reset))
        let overview = try HTTPClient(timeout: 30).get(gateway.base + "/api/v1/breaker")
        XCTAssertFalse(try BreakerHalts(overview: overview.body, tiers: ["instrument"]).halts.contains { $0.target == "XAU_USD" && $0.manual },
                       "the operator's XAU_USD trip was reset: \(overview.text)")
        // Orders reached the paper market, and what the breaker blocked (if anything) is listed.
        XCTAssertTrue(perf.output.contains("PASS  run / orders filled"), perf.output)
        let figures = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: figuresFile)) as? [String: Any])
        // Keys present (tick → decision is null in so short a run: the scripts' springs come later).
        for key in ["tick_to_decision_ms", "market_speed"] { XCTAssertNotNil(figures[key], "\(key) missing: \(perf.output)") }
        XCTAssertGreaterThan(figures["market_speed"] as? Double ?? 0, 1, "the scripted market runs faster than real time")
        let perfRun = try XCTUnwrap(figures["run"] as? String)
        let stored = try pool.queryOne("SELECT count(*)::bigint AS n FROM orders WHERE id LIKE $1", ["\(perfRun)-%"])?.decode(Int64.self, column: "n") ?? 0
        // The run's orders: the synthetic signals' (ids `<run>-…`) and any Wyckoff made of the
        // validator's ticks (counted apart as wyckoff_orders).
        XCTAssertEqual(figures["orders"] as? Int, Int(stored) + (figures["wyckoff_orders"] as? Int ?? -1), "the validator's order count is the database's")
        XCTAssertGreaterThanOrEqual(Int(stored), 20, perf.output)
        // --signal-accounts all: every synthetic signal made an order (sized or skipped) per account.
        let signals = try XCTUnwrap(figures["signals"] as? Int)
        let synthetic = try pool.queryOne("SELECT count(*)::bigint AS n FROM orders WHERE id LIKE $1 AND hops->1->>'agent' = 'aria-risk'",
                                          ["\(perfRun)-%"])?.decode(Int64.self, column: "n") ?? 0
        XCTAssertEqual(Int(synthetic), signals * ids.count, perf.output)
        XCTAssertGreaterThan(figures["ticks_per_s"] as? Double ?? 0, 150, perf.output)
        for key in ["signal_to_decision_ms", "api_ms"] {
            let p = try XCTUnwrap(figures[key] as? [String: Double], "\(key) missing: \(perf.output)")
            XCTAssertGreaterThan(p["count"] ?? 0, 0, key)
            XCTAssertLessThanOrEqual(p["p50"] ?? .infinity, p["p95"] ?? 0, key)
            XCTAssertLessThanOrEqual(p["p95"] ?? .infinity, p["p99"] ?? 0, key)
        }
        for key in ["tick_to_fill_ms", "signal_to_fill_ms"] { XCTAssertNotNil(figures[key], "\(key) missing (null when no sample)") }
        XCTAssertNotNil(figures["breakers_after_run"] as? [[String: Any]], perf.output)
        let blocks = try XCTUnwrap(figures["breaker_blocks"] as? [[String: Any]], perf.output)
        XCTAssertEqual(perf.output.contains("blocked by the circuit breaker: "), !blocks.isEmpty, perf.output)
        XCTAssertGreaterThan((figures["db_ms"] as? [String: Any])?["queries"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(figures["rss_mb_total"] as? Double ?? 0, 9 * 5, "nine services, each several MB resident")
        XCTAssertGreaterThan(figures["cpu_percent_avg"] as? Double ?? 0, 0)
        XCTAssertTrue(perf.output.contains("| signal → decision (cleared or ended) |"), perf.output)

        // 2a. Every instrument halted and kept so (--keep-breakers): no order can fill, and the
        // validator fails the run, naming what blocked the orders, instead of passing on latency
        // figures that measure nothing.
        // The system breaker first back to normal: a debug stack on a busy host can leave it at
        // warning on the last minute's pipeline latency, and its REDUCING state would block the
        // run's orders before the instruments' breakers are asked.
        func systemState() -> String {
            guard let r = try? HTTPClient(timeout: 10).get(gateway.base + "/api/v1/breaker"),
                  let json = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
                  let breakers = json["breakers"] as? [[String: Any]] else { return "unreadable" }
            return breakers.first { $0["tier"] as? String == "system" }?["state"] as? String ?? "absent"
        }
        XCTAssertTrue(KafkaWait.until(timeout: 90) { systemState() == "normal" }, "system breaker: \(systemState())")
        let everyInstrument = Instrument.catalog.keys.sorted()
        for instrument in everyInstrument { try instrumentBreaker("trip", instrument) }
        let haltedRun = try tool("tmt-performance-validator", ["--rate", "200", "--duration", "4", "--warmup", "1", "--signals-per-second", "4",
                                                            "--drain", "20", "--keep-accounts", "--keep-breakers", "--accounts", ids.joined(separator: ",")])
        XCTAssertNotEqual(haltedRun.status, 0, haltedRun.output)
        XCTAssertTrue(haltedRun.output.contains("instrument breakers left as they are (--keep-breakers; new orders on them will be blocked): AUD_USD (tripped by an operator: "),
                      haltedRun.output)
        XCTAssertTrue(haltedRun.output.contains("FAIL  run / orders filled"), haltedRun.output)
        XCTAssertTrue(haltedRun.output.contains("so the fill latencies measure nothing; the circuit breaker blocked "), haltedRun.output)
        XCTAssertTrue(haltedRun.output.contains("blocked by the circuit breaker: ") && haltedRun.output.contains(" on instrument "), haltedRun.output)
        // …and says what it leaves behind: the six instruments still halted.
        XCTAssertTrue(haltedRun.output.contains("breakers not normal after the run (the next run meets them; the validator resets instruments only): "),
                      haltedRun.output)
        for instrument in everyInstrument { XCTAssertTrue(haltedRun.output.contains("\(instrument) (tripped by an operator: "), instrument) }
        for instrument in everyInstrument { try instrumentBreaker("reset", instrument) }

        // 2b. The integration tester again, now that the validator's run left positions: what a
        // pair holds decides anti-correlation's verdict, so a pair holding positions is restarted
        // first and the scenario still sees an action (a second deploy failed here before). The
        // accounts holding positions go last, so the scenario's first pair includes one.
        let holders = try pool.query("SELECT DISTINCT account_id FROM positions WHERE account_id = ANY($1) AND quantity <> 0", [ids])
            .map { try $0.decode(String.self, column: "account_id") }
        XCTAssertFalse(holders.isEmpty, "the validator's run left no position: \(perf.output)")
        let order = ids.filter { !holders.contains($0) } + ids.filter { holders.contains($0) }
        // Two of the fill's candidate instruments halted by their breakers (as a real gap would,
        // e.g. when another tool's ticks left a price elsewhere): the fill must land on another
        // instrument, and never on a halted one.
        let halted = ["EUR_USD", "AUD_USD"]
        for instrument in halted { try instrumentBreaker("trip", instrument) }
        let again = try tool("tmt-integration-tester", ["--only", "pipeline", "--accounts", order.joined(separator: ","), "--timeout", "90"])
        for instrument in halted { try instrumentBreaker("reset", instrument) }
        XCTAssertEqual(again.status, 0, "\(again.output)\n\(stack.logs())")
        let fillLine = again.output.split(separator: "\n").first { $0.contains("pipeline / fill:") } ?? ""
        XCTAssertTrue(fillLine.hasPrefix("PASS"), again.output)
        for instrument in halted {
            XCTAssertFalse(fillLine.contains("lots \(instrument) filled"), "a halted instrument filled: \(fillLine)")
        }
        let correlationLine = again.output.split(separator: "\n").first { $0.contains("anti-correlation: one signal for two accounts") } ?? ""
        XCTAssertTrue(correlationLine.hasPrefix("PASS") && correlationLine.contains("both restarted first"), again.output)

        // 3. The load tester: HTTP users on keep-alive connections, then the first Kafka hop.
        let httpFile = reports.appendingPathComponent("load-http.json")
        let http = try tool("tmt-load-tester", ["http", "--users", "4", "--duration", "3", "--json", httpFile.path])
        XCTAssertEqual(http.status, 0, http.output)
        let load = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: httpFile)) as? [String: Any])
        XCTAssertGreaterThan(load["requests"] as? Int ?? 0, 50, http.output)
        XCTAssertEqual(load["errors"] as? Int, 0)
        XCTAssertEqual(load["non_2xx"] as? Int, 0)
        let kafkaFile = reports.appendingPathComponent("load-kafka.json")
        let kafka = try tool("tmt-load-tester", ["kafka", "--messages", "5000", "--drain", "60", "--json", kafkaFile.path])
        XCTAssertEqual(kafka.status, 0, "\(kafka.output)\n\(stack.logs())")
        let k = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: kafkaFile)) as? [String: Any])
        XCTAssertEqual(k["messages"] as? Int, 5000)
        XCTAssertGreaterThan(k["consume_msgs_per_s"] as? Double ?? 0, 0, kafka.output)
        XCTAssertNotNil(k["drain_seconds"] as? Double, kafka.output)
        // The raw reference (kcat, installed for the tests) read at least the ticks just sent
        // from the same broker, and the ratio is Wyckoff's rate over kcat's.
        XCTAssertGreaterThanOrEqual(k["kcat_messages"] as? Int ?? 0, 5000, kafka.output)
        let kcatRate = try XCTUnwrap(k["kcat_msgs_per_s"] as? Double, kafka.output)
        let ratio = try XCTUnwrap(k["ratio_to_kcat"] as? Double, kafka.output)
        XCTAssertEqual(ratio, (k["consume_msgs_per_s"] as? Double ?? 0) / kcatRate, accuracy: 1e-9)
        XCTAssertTrue(kafka.output.contains("Wyckoff/kcat"), kafka.output)
        // Its ticks continued from the stack's prices: no instrument halted on a jump (they used
        // to start from the generator's prices, far from where the validator's market had moved).
        let afterLoad = try HTTPClient(timeout: 30).get(gateway.base + "/api/v1/breaker")
        XCTAssertEqual(try BreakerHalts(overview: afterLoad.body, tiers: ["instrument"]).halts.filter { $0.reason.contains("gap") }.map(\.label), [],
                       "\(kafka.output)\n\(afterLoad.text)")
        // The same-run reference: kcat followed the load alongside Wyckoff and read all of it;
        // both are timed from the first tick produced, and the ratio is of those two rates.
        XCTAssertEqual(k["kcat_same_load_messages"] as? Int, 5000, kafka.output)
        let sameLoadKcat = try XCTUnwrap(k["kcat_same_load_msgs_per_s"] as? Double, kafka.output)
        let sameLoadWyckoff = try XCTUnwrap(k["wyckoff_same_load_msgs_per_s"] as? Double, kafka.output)
        XCTAssertGreaterThan(sameLoadWyckoff, 0)
        XCTAssertEqual(try XCTUnwrap(k["ratio_to_kcat_same_load"] as? Double), sameLoadWyckoff / sameLoadKcat, accuracy: 1e-9)
        XCTAssertTrue(kafka.output.contains("raw librdkafka under the same load"), kafka.output)

        // 4. Refusals: load tests only where enabled and only on loopback; a performance run
        // only with human delays off.
        let disabled = try tool("tmt-load-tester", ["http", "--duration", "1"], ["LOAD_TESTING_ENABLED": "false"])
        XCTAssertEqual(disabled.status, 2)
        XCTAssertTrue(disabled.output.contains("LOAD_TESTING_ENABLED"), disabled.output)
        let remote = try tool("tmt-load-tester", ["http", "--duration", "1", "--target", "http://10.255.255.1:8000"])
        XCTAssertEqual(remote.status, 2)
        XCTAssertTrue(remote.output.contains("loopback"), remote.output)
        let human = try XCTUnwrap(PipelineStack.agents.first { $0.service == "human-behavior" })
        let humanLike = try stack.start(human, extra: ["HUMAN_DELAY_SCALE": "1", "CONSUMER_GROUP": "e2e-\(stack.run)-human-scaled"])
        let refused = try tool("tmt-performance-validator", ["--duration", "6", "--accounts", ids[0]], ["AGENT_URLS": "human-behavior=\(humanLike.base)"])
        XCTAssertEqual(refused.status, 2, refused.output)
        XCTAssertTrue(refused.output.contains("HUMAN_DELAY_SCALE=1"), refused.output)
        let usage = try tool("tmt-performance-validator", ["--rate", "fast"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.output.contains("--rate"), usage.output)
        let fanout = try tool("tmt-performance-validator", ["--signal-accounts", "some"])
        XCTAssertEqual(fanout.status, 2)
        XCTAssertTrue(fanout.output.contains("--signal-accounts"), fanout.output)
    }

    func testEveryToolExplainsItselfWithHelp() throws {
        for (name, phrase) in [("tmt-integration-tester", "--report-dir"), ("tmt-performance-validator", "--rate"), ("tmt-load-tester", "LOAD_TESTING_ENABLED")] {
            let r = try Tool.run(TestServices.executable(name).path, ["--help"])
            XCTAssertEqual(r.status, 0, name)
            XCTAssertTrue(r.output.contains("Usage: \(name)") && r.output.contains(phrase) && r.output.contains("Exit status"), "\(name):\n\(r.output)")
        }
    }
}
