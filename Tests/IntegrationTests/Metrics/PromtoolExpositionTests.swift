import Foundation
import TMTCore
import XCTest

/// The exposition must be accepted by Prometheus's own linter, not just by our unit tests.
final class PromtoolExpositionTests: XCTestCase {
    func testPromtoolAcceptsExpositionOfEveryMetricType() throws {
        let r = MetricsRegistry()
        ProcessMetrics.register(on: r)
        let trades = r.counter("tmt_trade_execution_total", help: "Paper trades executed, by account.", labels: ["account"])
        trades.labels("acc-1").inc()
        trades.labels("acc \"two\"\\\n").inc(3)
        r.gauge("tmt_circuit_breaker_state", help: "Breaker state per tier: 0 normal, 1 warning, 2 tripped, 3 half-open.",
                labels: ["tier", "name"]).labels("system", "system").set(0)
        let h = r.histogram("tmt_signal_execution_duration_seconds", help: "Signal to fill latency in seconds.\nMulti-line \\ help.")
        for v in [0.0001, 0.003, 0.02, 0.2, 12] { h.labels().observe(v) }
        r.histogram("tmt_agent_processing_duration_seconds", help: "Per-agent processing.", labels: ["agent"])
            .labels("aria-risk").observe(0.001)

        let (status, output) = try runPromtool(input: r.exposition())
        XCTAssertEqual(status, 0, "promtool rejected the exposition:\n\(output)")
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "", "promtool printed lint problems:\n\(output)")
    }

    /// A deliberately broken text proves promtool really checks what we pipe in.
    func testPromtoolRejectsBrokenExposition() throws {
        let (status, _) = try runPromtool(input: "# TYPE x counter\nx{le=\"1\" 1\n")
        XCTAssertNotEqual(status, 0)
    }

    private func runPromtool(input: String) throws -> (Int32, String) {
        try Promtool.checkMetrics(input)
    }
}
