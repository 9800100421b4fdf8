import Foundation
#if canImport(FoundationXML)
import FoundationXML // XMLParser lives here on Linux (swift-corelibs-foundation)
#endif
import TMTCore
import TMTStagingTools
import TMTTrading
import XCTest

final class StagingToolsUnitTests: XCTestCase {
    func testSimulatedPaceAdvancesTheMarketAtItsSpeedAndKeepsBarsFilled() throws {
        // 250 ticks per real second at 174× real time: the simulator's first 2,500 ticks (ten
        // real seconds' worth) cover about 1,740 market seconds.
        let pace = SimulatedPace(speed: 174, rate: 250)
        var sim = MarketSimulator(.init(seed: 3, startMicros: 1_795_590_000_000_000, profiles: pace.profiles))
        let ticks = (0..<2_500).map { _ in sim.next() }
        let span = Double(ticks.last!.time - 1_795_590_000_000_000) / 1e6
        XCTAssertEqual(span, 1_740, accuracy: 1_740 * 0.1, "market seconds covered by ten real seconds of ticks")
        // Every instrument keeps ticking (its share also follows its session's activity).
        for profile in pace.profiles {
            XCTAssertGreaterThan(ticks.filter { $0.instrument == profile.instrument.symbol }.count, 2_500 / 50, profile.instrument.symbol)
        }
        let allPerSecond: Double = 5 * 4 + 1 / 0.3

        // Bounds: never slower than the natural pace, never fewer than 15 ticks per bar (SimulatedPace.minTicksPerBar).
        let natural = SimulatedPace.natural(rate: 1000)
        XCTAssertEqual(natural, 1000 / allPerSecond, accuracy: 1e-9)
        XCTAssertEqual(SimulatedPace.fitting(scriptSeconds: 100, into: 60, rate: 1000).speed, natural, "a short script: natural pace")
        let fitted = SimulatedPace.fitting(scriptSeconds: 4_350, into: 25, rate: 1000)
        XCTAssertEqual(fitted.speed, 174, accuracy: 1e-9, "30-minute scripts fit into 25 s")
        let capped = SimulatedPace.fitting(scriptSeconds: 4_350, into: 6, rate: 200)
        XCTAssertEqual(capped.speed, SimulatedPace.fastest(rate: 200), accuracy: 1e-9)
        let perBar = capped.base.map { capped.ticksPerBar($0) }
        XCTAssertEqual(perBar.min() ?? 0, SimulatedPace.minTicksPerBar, accuracy: 1e-9, "the sparsest instrument at the bound")
        XCTAssertTrue(perBar.allSatisfy { $0 >= SimulatedPace.minTicksPerBar - 1e-9 }, "\(perBar)")
        for (kept, original) in zip(SimulatedPace(speed: natural, rate: 1000).profiles, InstrumentProfile.defaults) {
            XCTAssertEqual(kept.meanTickInterval, original.meanTickInterval, accuracy: 1e-12, "the natural pace keeps the profiles' intervals")
        }
    }

    func testPercentilesAreNearestRankValuesThatWereMeasured() throws {
        let p = try XCTUnwrap(Percentiles((1...100).map(Double.init).reversed()))
        XCTAssertEqual(p.count, 100)
        XCTAssertEqual(p.p50, 50)
        XCTAssertEqual(p.p95, 95)
        XCTAssertEqual(p.p99, 99)
        XCTAssertEqual(p.max, 100)
        XCTAssertEqual(p.mean, 50.5)
        let one = try XCTUnwrap(Percentiles([7]))
        XCTAssertEqual([one.p50, one.p99, one.max], [7, 7, 7])
        XCTAssertNil(Percentiles([]))
    }

    func testMetricsScrapeParsesLabelsAndEstimatesQuantilesAsPrometheusDoes() throws {
        let text = """
        # HELP tmt_db_query_duration_seconds Query time.
        # TYPE tmt_db_query_duration_seconds histogram
        tmt_db_query_duration_seconds_bucket{pool="trading",le="0.001"} 50
        tmt_db_query_duration_seconds_bucket{pool="trading",le="0.01"} 90
        tmt_db_query_duration_seconds_bucket{pool="trading",le="+Inf"} 100
        tmt_db_query_duration_seconds_sum{pool="trading"} 0.5
        tmt_db_query_duration_seconds_count{pool="trading"} 100
        tmt_db_query_duration_seconds_bucket{pool="market",le="0.001"} 10
        tmt_db_query_duration_seconds_bucket{pool="market",le="0.01"} 10
        tmt_db_query_duration_seconds_bucket{pool="market",le="+Inf"} 10
        tmt_db_query_duration_seconds_sum{pool="market"} 0.005
        tmt_db_query_duration_seconds_count{pool="market"} 10
        tmt_kafka_consumer_lag{topic="market.ticks",partition="0",group="wyckoff-analysis"} 3
        tmt_kafka_consumer_lag{topic="market.ticks",partition="1",group="wyckoff-analysis"} 4
        tmt_kafka_consumer_lag{topic="orders.proposed",partition="0",group="compliance-engine"} 9
        tmt_service_info{service="a \\"quoted\\" name",version="1"} 1
        process_resident_memory_bytes 1.048576e+07
        """
        let m = MetricsScrape(text: text)
        XCTAssertEqual(m.sum("tmt_kafka_consumer_lag", ["topic": "market.ticks"]), 7)
        XCTAssertEqual(m.sum("process_resident_memory_bytes"), 10_485_760)
        XCTAssertEqual(m.samples.first { $0.name == "tmt_service_info" }?.labels["service"], "a \"quoted\" name")

        let trading = m.histogram("tmt_db_query_duration_seconds", ["pool": "trading"])
        XCTAssertEqual(trading.count, 100)
        XCTAssertEqual(try XCTUnwrap(trading.mean), 0.005, accuracy: 1e-12)
        // Rank 50 falls at the top of the first bucket; rank 70 halfway through the second.
        XCTAssertEqual(try XCTUnwrap(trading.quantile(0.5)), 0.001, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(trading.quantile(0.7)), 0.0055, accuracy: 1e-12)
        // Past the last finite bucket: its bound, as histogram_quantile answers.
        XCTAssertEqual(try XCTUnwrap(trading.quantile(0.99)), 0.01, accuracy: 1e-12)

        // Both pools together, and the difference between two scrapes.
        let all = m.histogram("tmt_db_query_duration_seconds")
        XCTAssertEqual(all.count, 110)
        let delta = all.minus(m.histogram("tmt_db_query_duration_seconds", ["pool": "market"]))
        XCTAssertEqual(delta.count, 100)
        XCTAssertEqual(delta.buckets[0.001], 50)
        XCTAssertNil(MetricsScrape.Histogram().quantile(0.5))
    }

    func testToolArgumentsNameTheFlagInEveryError() throws {
        let a = try ToolArguments(["--rate", "250", "--json=/tmp/x.json", "--no-sla"], valued: ["--rate", "--json"], switches: ["--no-sla"])
        XCTAssertEqual(try a.double("--rate", default: 1, range: 1...1000), 250)
        XCTAssertEqual(a.string("--json"), "/tmp/x.json")
        XCTAssertTrue(a.has("--no-sla"))
        XCTAssertEqual(try a.int("--duration", default: 30, range: 1...60), 30)
        XCTAssertThrowsError(try a.double("--rate", default: 1, range: 1...100)) { XCTAssertTrue("\($0)".contains("--rate")) }
        XCTAssertThrowsError(try ToolArguments(["--bogus"], valued: [], switches: [])) { XCTAssertTrue("\($0)".contains("--bogus")) }
        XCTAssertThrowsError(try ToolArguments(["--rate"], valued: ["--rate"], switches: [])) { XCTAssertTrue("\($0)".contains("--rate needs a value")) }
        XCTAssertThrowsError(try ToolArguments(["--no-sla=1"], valued: [], switches: ["--no-sla"]))
    }

    func testMarketTimeWeekdayAvoidsTheWeekendCutOff() throws {
        let f = ISO8601DateFormatter()
        func weekday(_ iso: String) throws -> String { f.string(from: try MarketTime.parse("weekday", now: f.date(from: iso)!)) }
        XCTAssertEqual(try weekday("2026-11-26T10:00:00Z"), "2026-11-26T10:00:00Z") // Thursday: as is
        XCTAssertEqual(try weekday("2026-11-27T18:59:00Z"), "2026-11-27T18:59:00Z") // Friday before 19:00
        XCTAssertEqual(try weekday("2026-11-27T19:00:00Z"), "2026-11-26T19:00:00Z") // Friday evening → Thursday
        XCTAssertEqual(try weekday("2026-11-28T12:00:00Z"), "2026-11-26T12:00:00Z") // Saturday → Thursday
        XCTAssertEqual(try weekday("2026-11-29T23:30:00Z"), "2026-11-26T23:30:00Z") // Sunday → Thursday
        XCTAssertEqual(try weekday("2026-11-30T00:10:00Z"), "2026-11-30T00:10:00Z") // Monday
        XCTAssertEqual(f.string(from: try MarketTime.parse("2026-01-06T07:00:00Z", now: Date())), "2026-01-06T07:00:00Z")
        XCTAssertThrowsError(try MarketTime.parse("tomorrow", now: Date())) { XCTAssertTrue("\($0)".contains("--market-time")) }
    }

    func testEndpointsFromTheEnvironmentAndTheLoopbackGuard() throws {
        let e = try StackEndpoints(environment: Environment([
            "TMT_API_URL": "http://127.0.0.1:18000/", "PROMETHEUS_URL": "", "TMT_API_TOKEN": "t0k",
            "AGENT_URLS": "aria-risk=http://aria:8004, human-behavior=http://127.0.0.1:8007/",
        ]))
        XCTAssertEqual(e.gateway, "http://127.0.0.1:18000")
        XCTAssertEqual(e.agents, [.init(name: "aria-risk", url: "http://aria:8004"), .init(name: "human-behavior", url: "http://127.0.0.1:8007")])
        XCTAssertNil(e.prometheus)
        XCTAssertEqual(e.alertmanager, "http://127.0.0.1:9094")
        XCTAssertEqual(e.apiToken, "t0k")
        XCTAssertEqual(try StackEndpoints(environment: Environment([:])).agents.count, 8)
        XCTAssertThrowsError(try StackEndpoints(environment: Environment(["AGENT_URLS": "aria-risk"]))) { XCTAssertTrue("\($0)".contains("AGENT_URLS")) }
        XCTAssertThrowsError(try StackEndpoints(environment: Environment(["TMT_API_URL": "https://x"]))) { XCTAssertTrue("\($0)".contains("TMT_API_URL")) }
        XCTAssertTrue(StackEndpoints.isLoopback("http://127.0.0.1:8000"))
        XCTAssertTrue(StackEndpoints.isLoopback("http://localhost:8000/x"))
        XCTAssertTrue(StackEndpoints.isLoopback("kafka://127.0.0.1:9093"))
        XCTAssertFalse(StackEndpoints.isLoopback("http://10.0.0.5:8000"))
        XCTAssertFalse(StackEndpoints.isLoopback("http://127.0.0.1.example.com:8000"))
    }

    func testReportsAreWellFormedJUnitAndJSON() throws {
        let report = ToolReport(tool: "unit")
        XCTAssertTrue(report.run("suite <a>", "passes") { "saw \"1\" & <2>" })
        XCTAssertFalse(report.run("suite <a>", "fails") { throw CheckFailure("expected 1, got 2\u{1}") })
        XCTAssertFalse(report.run("other", "skips") { throw ToolReport.Skip("not here") })
        XCTAssertEqual(report.failed, 1)
        XCTAssertTrue(report.summary.hasPrefix("unit: 3 checks, 1 passed, 1 failed, 1 skipped"), report.summary)

        let xml = report.junitXML()
        final class Counter: NSObject, XMLParserDelegate {
            var elements: [String: Int] = [:]
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                elements[name, default: 0] += 1
            }
        }
        let parser = XMLParser(data: Data(xml.utf8))
        let counter = Counter()
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")\n\(xml)")
        XCTAssertEqual(counter.elements["testsuite"], 2)
        XCTAssertEqual(counter.elements["testcase"], 3)
        XCTAssertEqual(counter.elements["failure"], 1)
        XCTAssertEqual(counter.elements["skipped"], 1)

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: report.json(extra: ["run": "r1"])) as? [String: Any])
        XCTAssertEqual(json["passed"] as? Int, 1)
        XCTAssertEqual(json["failed"] as? Int, 1)
        XCTAssertEqual(json["run"] as? String, "r1")
        XCTAssertEqual((json["cases"] as? [[String: Any]])?.map { $0["status"] as? String }, ["passed", "failed", "skipped"])
    }

    /// Where the tools' ticks start: the quote board's mid, unless the newest bar ended after
    /// that quote (the engine was down while ticks flowed); the bar's close; the default.
    func testStackPricesPreferTheNewerOfQuoteAndBar() {
        let prices = StackPrices.choose(
            defaults: ["EUR_USD": 1, "US30": 2, "XAU_USD": 3, "GBP_USD": 4],
            bars: ["EUR_USD": (close: Decimal(string: "1.08")!, end: 1_000), "US30": (close: 38_000, end: 5_000),
                   "XAU_USD": (close: 2_300, end: 1_000), "NOT_OURS": (close: 9, end: 0)],
            quotes: ["EUR_USD": (mid: Decimal(string: "1.09")!, time: 2_000), "US30": (mid: 38_500, time: 4_999),
                     "GBP_USD": (mid: Decimal(string: "1.25")!, time: 1)])
        XCTAssertEqual(prices, ["EUR_USD": Decimal(string: "1.09")!, "US30": 38_000, "XAU_USD": 2_300, "GBP_USD": Decimal(string: "1.25")!])
    }

    func testBreakerBlocksAreGroupedByWhatBlockedThemMostFirst() {
        let gap = "EUR_USD tripped: move 1.17 % ≥ gap limit 0.50 %"
        let blocks = BreakerBlock.group([
            (rule: "breaker-instrument", instrument: "EUR_USD", account: "ftmo-1", detail: gap),
            (rule: "breaker-account", instrument: "EUR_USD", account: "ftmo-1", detail: "ftmo-1 tripped: daily drawdown 4.06 %"),
            (rule: "breaker-instrument", instrument: "EUR_USD", account: "trail-1", detail: "later detail"),
            (rule: "breaker-instrument", instrument: "XAU_USD", account: "trail-1", detail: "XAU_USD tripped"),
            (rule: "breaker-system", instrument: "US30", account: "ftmo-1", detail: "system tripped: latency p95 3.1 s"),
            (rule: "breaker-system", instrument: "GBP_USD", account: "trail-1", detail: "system tripped again"),
        ])
        XCTAssertEqual(blocks, [
            BreakerBlock(rule: "breaker-instrument", target: "EUR_USD", orders: 2, detail: gap, latestDetail: "later detail"),
            BreakerBlock(rule: "breaker-system", target: "breaker-system", orders: 2, detail: "system tripped: latency p95 3.1 s",
                         latestDetail: "system tripped again"),
            BreakerBlock(rule: "breaker-account", target: "ftmo-1", orders: 1, detail: "ftmo-1 tripped: daily drawdown 4.06 %"),
            BreakerBlock(rule: "breaker-instrument", target: "XAU_USD", orders: 1, detail: "XAU_USD tripped"),
        ])
        XCTAssertEqual(BreakerBlock.describe(Array(blocks.prefix(3))),
                       "2 orders on instrument EUR_USD (first: \(gap); latest: later detail); "
                       + "2 orders by breaker-system (first: system tripped: latency p95 3.1 s; latest: system tripped again); "
                       + "1 order for account ftmo-1 (ftmo-1 tripped: daily drawdown 4.06 %)")
        XCTAssertEqual(BreakerBlock.group([]), [])
        XCTAssertEqual(blocks[0].object["orders"] as? Int, 2)
        XCTAssertEqual(blocks[0].object["latest_detail"] as? String, "later detail")
        XCTAssertNil(blocks[2].object["latest_detail"])
        // Back to the first reason by the last order: one reason again.
        XCTAssertEqual(BreakerBlock.group([(rule: "breaker-system", instrument: "US30", account: "a", detail: "x"),
                                           (rule: "breaker-system", instrument: "US30", account: "a", detail: "y"),
                                           (rule: "breaker-system", instrument: "US30", account: "a", detail: "x")]),
                       [BreakerBlock(rule: "breaker-system", target: "breaker-system", orders: 3, detail: "x")])
    }

    func testBreakerHaltsAreTheBreakersNotNormalOfTheTiersAsked() throws {
        let overview = Array("""
            {"snapshotAt":1,"breakers":[
             {"tier":"system","target":"system","state":"tripped","manual":false,"reason":"latency","since":1},
             {"tier":"account","target":"ftmo-1","state":"tripped","manual":false,"reason":"drawdown","since":1},
             {"tier":"instrument","target":"XAU_USD","state":"tripped","manual":true,"reason":"drill","since":1},
             {"tier":"instrument","target":"EUR_USD","state":"tripped","manual":false,"reason":"gap 1.17 %","since":1},
             {"tier":"instrument","target":"AUD_USD","state":"halfOpen","reason":"recovering","since":1},
             {"tier":"instrument","target":"US30","state":"normal","manual":false,"reason":"ok","since":1},
             {"tier":"instrument","target":"GBP_USD","state":"warning","manual":false,"reason":"volatile","since":1}]}
            """.utf8)
        let halts = try BreakerHalts(overview: overview, tiers: ["instrument"]).halts
        XCTAssertEqual(halts.map(\.target), ["AUD_USD", "EUR_USD", "GBP_USD", "XAU_USD"],
                       "only the instrument tier; tripped, half-open or warning (only risk-reducing orders pass), not normal")
        XCTAssertEqual(halts.map(\.label), ["AUD_USD (halfOpen: recovering)", "EUR_USD (tripped: gap 1.17 %)", "GBP_USD (warning: volatile)",
                                            "XAU_USD (tripped by an operator: drill)"])
        XCTAssertTrue(try BreakerHalts(overview: Array(#"{"breakers":[]}"#.utf8), tiers: ["instrument"]).halts.isEmpty)
        XCTAssertThrowsError(try BreakerHalts(overview: Array("not json".utf8), tiers: ["instrument"]))
        // Every tier, as the validator lists them after a run: system, agent, account, instrument.
        let all = try BreakerHalts(overview: overview, tiers: ["system", "agent", "account", "instrument"]).halts
        XCTAssertEqual(all.map(\.label), ["system (tripped: latency)", "account ftmo-1 (tripped: drawdown)",
                                          "AUD_USD (halfOpen: recovering)", "EUR_USD (tripped: gap 1.17 %)", "GBP_USD (warning: volatile)",
                                          "XAU_USD (tripped by an operator: drill)"])
        XCTAssertEqual(all[1].object["tier"] as? String, "account")
        XCTAssertEqual(all[5].object["manual"] as? Bool, true)
    }
}
