import XCTest
@testable import TMTMetrics

final class MetricsExpositionTests: XCTestCase {
    func testCountersGaugesAndLabelsAreSortedAndEscaped() {
        let r = MetricsRegistry()
        let trades = r.counter("tmt_trade_execution_total", help: "Paper trades executed.\nBy account \\ firm.", labels: ["account"])
        trades.labels("b").inc()
        trades.labels("a").inc(2)
        r.gauge("tmt_circuit_breaker_state", help: "0 normal, 1 warning, 2 tripped, 3 half-open.", labels: ["tier", "name"])
            .labels("account", "acc \"x\"\\\n").set(2)
        let text = r.exposition()
        XCTAssertEqual(text, """
        # HELP tmt_circuit_breaker_state 0 normal, 1 warning, 2 tripped, 3 half-open.
        # TYPE tmt_circuit_breaker_state gauge
        tmt_circuit_breaker_state{tier="account",name="acc \\"x\\"\\\\\\n"} 2
        # HELP tmt_trade_execution_total Paper trades executed.\\nBy account \\\\ firm.
        # TYPE tmt_trade_execution_total counter
        tmt_trade_execution_total{account="a"} 2
        tmt_trade_execution_total{account="b"} 1

        """)
    }

    /// A CR LF is one Swift Character: escaping compares Unicode scalars, so its line feed is
    /// escaped too and never ends a line of the exposition.
    func testLineFeedsInsideCarriageReturnLineFeedsAreEscaped() {
        let r = MetricsRegistry()
        r.gauge("tmt_test_value", help: "one\r\ntwo", labels: ["who"]).labels("a\"b\r\nc").set(1)
        r.gauge("tmt_test_plain", help: "plain", labels: ["who"]).labels("x\r\ny").set(2)
        let text = r.exposition()
        XCTAssertTrue(text.contains("# HELP tmt_test_value one\r\\ntwo\n"), text)
        XCTAssertTrue(text.contains("tmt_test_value{who=\"a\\\"b\r\\nc\"} 1\n"), text)
        XCTAssertTrue(text.contains("tmt_test_plain{who=\"x\r\\ny\"} 2\n"), text)
        XCTAssertEqual(text.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.hasPrefix("tmt_test") }.count, 2, text)
    }

    func testCountersNeverDecrease() {
        let c = MetricsRegistry().counter("x_total", help: "x").labels()
        c.inc(3)
        c.inc(-5)
        XCTAssertEqual(c.value, 3)
    }

    func testHistogramBucketsAreCumulativeAndInfEqualsCount() {
        let r = MetricsRegistry()
        let h = r.histogram("tmt_signal_execution_duration_seconds", help: "Signal to fill.", buckets: [0.01, 0.05, 0.1]).labels()
        for v in [0.005, 0.01, 0.02, 0.07, 0.5, 2] { h.observe(v) }
        let text = r.exposition()
        XCTAssertTrue(text.contains("""
        tmt_signal_execution_duration_seconds_bucket{le="0.01"} 2
        tmt_signal_execution_duration_seconds_bucket{le="0.05"} 3
        tmt_signal_execution_duration_seconds_bucket{le="0.1"} 4
        tmt_signal_execution_duration_seconds_bucket{le="+Inf"} 6
        tmt_signal_execution_duration_seconds_sum 2.605
        tmt_signal_execution_duration_seconds_count 6
        """), text)
        // Quantile estimate interpolates inside the bucket like histogram_quantile.
        XCTAssertEqual(try XCTUnwrap(h.quantile(0.5)), 0.05, accuracy: 1e-9)
    }

    func testHistogramIsConsistentUnderConcurrentObservation() {
        let h = MetricsRegistry().histogram("lat_seconds", help: "l", buckets: [1, 2, 3]).labels()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for j in 0..<10_000 { h.observe(Double((i + j) % 4)) }
        }
        let snap = h.snapshot()
        XCTAssertEqual(snap.count, 80_000)
        XCTAssertEqual(snap.buckets.last, 80_000)
        XCTAssertEqual(snap.sum, 80_000 * 1.5)
        XCTAssertEqual(snap.buckets, [40_000, 60_000, 80_000, 80_000])
    }

    func testSameFamilyIsSharedAndLabelCountIsChecked() {
        let r = MetricsRegistry()
        let a = r.counter("shared_total", help: "s", labels: ["topic"])
        let b = r.counter("shared_total", help: "s", labels: ["topic"])
        XCTAssertTrue(a === b)
        a.labels("t").inc()
        XCTAssertEqual(b.labels("t").value, 1)
    }

    func testCollectorsRunBeforeExposition() {
        let r = MetricsRegistry()
        let g = r.gauge("lag", help: "lag", labels: ["partition"])
        r.addCollector { g.labels("0").set(42) }
        XCTAssertTrue(r.exposition().contains("lag{partition=\"0\"} 42"))
    }

    func testProcessMetricsReadProc() throws {
        let r = MetricsRegistry()
        ProcessMetrics.register(on: r)
        let text = r.exposition()
        let rss = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("process_resident_memory_bytes ") })
        XCTAssertGreaterThan(Double(rss.split(separator: " ")[1]) ?? 0, 1_000_000)
        let start = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("process_start_time_seconds ") })
        let started = Double(start.split(separator: " ")[1]) ?? 0
        XCTAssertEqual(started, Date().timeIntervalSince1970, accuracy: 24 * 3600)
        // PSS: positive, and at most the resident size (shared pages count only in part).
        let pssLine = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("tmt_process_proportional_memory_bytes ") })
        let pss = Double(pssLine.split(separator: " ")[1]) ?? 0
        XCTAssertGreaterThan(pss, 100_000)
        XCTAssertLessThanOrEqual(pss, (Double(rss.split(separator: " ")[1]) ?? 0) * 1.05)
    }

    func testFloatFormatting() {
        XCTAssertEqual(MetricsRegistry.format(3), "3")
        XCTAssertEqual(MetricsRegistry.format(0.25), "0.25")
        XCTAssertEqual(MetricsRegistry.format(.infinity), "+Inf")
        XCTAssertEqual(MetricsRegistry.format(.nan), "NaN")
    }
}

final class CounterMirrorTests: XCTestCase {
    func testAdvanceOnlyMovesUp() {
        let c = MetricsRegistry().counter("cpu_total", help: "c").labels()
        c.advance(to: 2.5)
        c.advance(to: 1)
        XCTAssertEqual(c.value, 2.5)
        c.advance(to: 4)
        XCTAssertEqual(c.value, 4)
    }
}
