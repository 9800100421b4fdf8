import Foundation
import TMTCore
import TMTTrading

/// The first hop's own work per tick, without the broker: decoding `Envelope<Tick>` from the
/// bytes the producers write, then folding the tick into M1 bars (what Wyckoff does for every
/// tick before a bar closes), and the analysis of each bar that closes (amortised over the ticks;
/// the bar's database insert is not included). Single thread, seeded ticks encoded before the clock starts, best
/// of `repeats` passes so a busy neighbour shows as spread, not as the figure.
enum TickBenchmark {
    static func run(count: Int, repeats: Int) throws {
        progress("encoding \(count) seeded ticks")
        var simulator = MarketSimulator(.init(seed: 7, startMicros: 1_767_225_600_000_000))
        let encoded: [[UInt8]] = try (0..<count).map { _ in
            let tick = simulator.next()
            let id = "\(tick.instrument)-\(tick.time)-bench"
            return try EnvelopeCoding.encode(Envelope(id: id, type: "market.tick", traceId: id, source: "bench", payload: tick))
        }
        let bytes = encoded.reduce(0) { $0 + $1.count }

        var decodeNs: [Double] = [], barsNs: [Double] = [], midNs: [Double] = [], analyseNs: [Double] = [], breakerNs: [Double] = []
        var closedBars = 0, detectedEvents = 0
        for pass in 1...repeats {
            progress("pass \(pass)/\(repeats)")
            var ticks: [Tick] = []
            ticks.reserveCapacity(count)
            var started = Monotonic.nanos()
            for message in encoded { ticks.append(try EnvelopeCoding.decode(Tick.self, from: message).payload) }
            decodeNs.append(Double(Monotonic.nanos() - started) / Double(count))

            var sink = Decimal(0)
            started = Monotonic.nanos()
            for tick in ticks { sink = tick.mid }
            midNs.append(Double(Monotonic.nanos() - started) / Double(count))
            guard sink > 0 else { throw BenchmarkError("mid of the last tick is \(sink)") }

            var builder = try BarBuilder(timeframeSeconds: 60)
            var closed: [Bar] = []
            closed.reserveCapacity(count / 50)
            started = Monotonic.nanos()
            for tick in ticks { closed += builder.apply(tick) }
            barsNs.append(Double(Monotonic.nanos() - started) / Double(count))
            closedBars = closed.count

            // What Wyckoff then does with each closed bar before the next tick (besides storing it).
            var detector = try WyckoffDetector()
            var events = 0
            started = Monotonic.nanos()
            for bar in closed { events += detector.process(bar).events.count }
            analyseNs.append(Double(Monotonic.nanos() - started) / Double(max(closed.count, 1)))
            detectedEvents = events

            // The circuit breaker reads every tick too (gap and realised volatility per instrument).
            var breaker = CircuitBreaker(configuration: BreakerConfiguration(), clock: SystemClock())
            var breakerEvents = 0
            started = Monotonic.nanos()
            for tick in ticks { breakerEvents += breaker.apply(tick: tick).count }
            breakerNs.append(Double(Monotonic.nanos() - started) / Double(count))
            guard breakerEvents > 0 else { throw BenchmarkError("the breaker saw no first ticks") }
            guard builder.invalidTicks == 0, builder.lateTicks == 0 else {
                throw BenchmarkError("the bar builder refused ticks: \(builder.invalidTicks) invalid, \(builder.lateTicks) late")
            }
        }
        let decode = decodeNs.min()!, bars = barsNs.min()!, mid = midNs.min()!, analyse = analyseNs.min()!, breaker = breakerNs.min()!
        let analysePerTick = analyse * Double(closedBars) / Double(count)
        let spread = { (xs: [Double]) in xs.count > 1 ? " (passes \(xs.map { f2($0 / 1000) }.joined(separator: " / ")))" : "" }
        print("""

        ### First-hop work per tick, one thread, no broker — \(count) seeded ticks (\(bytes / count) bytes each), best of \(repeats)

        | step | µs per tick | ticks/s on one core |
        |---|---:|---:|
        | decode `Envelope<Tick>` | \(f2(decode / 1000)) | \(f0(1e9 / decode))\(spread(decodeNs)) |
        | `Tick.mid` alone | \(f2(mid / 1000)) | \(f0(1e9 / mid)) |
        | fold into M1 bars (`BarBuilder.apply`, \(closedBars) bars closed) | \(f2(bars / 1000)) | \(f0(1e9 / bars))\(spread(barsNs)) |
        | decode + bars | \(f2((decode + bars) / 1000)) | **\(f0(1e9 / (decode + bars)))** |
        | analyse each closed bar (`WyckoffDetector.process`, \(detectedEvents) events): \(f2(analyse / 1000)) µs per bar, per tick on average | \(f2(analysePerTick / 1000)) | \(f0(1e9 / analysePerTick))\(spread(analyseNs.map { $0 * Double(closedBars) / Double(count) })) |
        | decode + bars + analysis | \(f2((decode + bars + analysePerTick) / 1000)) | \(f0(1e9 / (decode + bars + analysePerTick))) |
        | the circuit breaker's gap and volatility checks (`CircuitBreaker.apply(tick:)`, standard thresholds) | \(f2(breaker / 1000)) | \(f0(1e9 / breaker))\(spread(breakerNs)) |

        """)
    }
}
