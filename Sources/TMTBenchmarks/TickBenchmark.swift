import Foundation
import TMTCore
import TMTTrading

/// The first hop's own work per tick, without the broker: decoding `Envelope<Tick>` from the
/// bytes the producers write, then folding the tick into M1 bars (what Wyckoff does for every
/// tick before a bar closes). Single thread, seeded ticks encoded before the clock starts, best
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

        var decodeNs: [Double] = [], barsNs: [Double] = [], midNs: [Double] = []
        var closedBars = 0
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
            closedBars = 0
            started = Monotonic.nanos()
            for tick in ticks { closedBars += builder.apply(tick).count }
            barsNs.append(Double(Monotonic.nanos() - started) / Double(count))
            guard builder.invalidTicks == 0, builder.lateTicks == 0 else {
                throw BenchmarkError("the bar builder refused ticks: \(builder.invalidTicks) invalid, \(builder.lateTicks) late")
            }
        }
        let decode = decodeNs.min()!, bars = barsNs.min()!, mid = midNs.min()!
        let spread = { (xs: [Double]) in xs.count > 1 ? " (passes \(xs.map { f2($0 / 1000) }.joined(separator: " / ")))" : "" }
        print("""

        ### First-hop work per tick, one thread, no broker — \(count) seeded ticks (\(bytes / count) bytes each), best of \(repeats)

        | step | µs per tick | ticks/s on one core |
        |---|---:|---:|
        | decode `Envelope<Tick>` | \(f2(decode / 1000)) | \(f0(1e9 / decode))\(spread(decodeNs)) |
        | `Tick.mid` alone | \(f2(mid / 1000)) | \(f0(1e9 / mid)) |
        | fold into M1 bars (`BarBuilder.apply`, \(closedBars) bars closed) | \(f2(bars / 1000)) | \(f0(1e9 / bars))\(spread(barsNs)) |
        | decode + bars | \(f2((decode + bars) / 1000)) | **\(f0(1e9 / (decode + bars)))** |

        """)
    }
}
