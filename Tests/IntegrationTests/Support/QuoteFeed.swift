import Foundation
import Synchronization
import TMTCore
import XCTest

/// A test's market: one instrument's quote published on `market.ticks` every 100 ms from a
/// thread of its own, stamped with the wall clock plus `offset` µs (the market clock a test
/// moves, e.g. past a firm's reset). The bid, ask and offset can change while it runs; it stops
/// on `stop()` or when released.
final class QuoteFeed: Sendable {
    struct Quote: Sendable {
        var bid: Decimal
        var ask: Decimal
        var offset: Int64
    }

    /// What the publishing thread shares with the test (the thread holds it, not the feed).
    private final class Shared: Sendable {
        let quote: Mutex<Quote>
        let running = Atomic<Bool>(true)
        init(_ quote: Quote) { self.quote = Mutex(quote) }
    }

    private let shared: Shared

    init(producer: KafkaProducer, instrument: String = "EUR_USD", bid: String = "1.08500", ask: String = "1.08508") {
        let shared = Shared(Quote(bid: Decimal(string: bid)!, ask: Decimal(string: ask)!, offset: 0))
        self.shared = shared
        let thread = Thread {
            while shared.running.load(ordering: .relaxed) {
                let q = shared.quote.withLock { $0 }
                let t = HopClock.nowMicros() + q.offset
                let tick = Tick(instrument: instrument, bid: q.bid, ask: q.ask, volume: 100_000, time: t)
                _ = try? producer.send(Envelope(id: "\(instrument)-\(t)", type: "market.tick", traceId: "t", source: "test", payload: tick),
                                       to: .marketTicks, key: instrument).wait(timeout: 10)
                usleep(100_000)
            }
        }
        thread.start()
    }

    deinit { stop() }

    /// The quote from the next tick on.
    func set(bid: String, ask: String) {
        shared.quote.withLock { $0.bid = Decimal(string: bid)!; $0.ask = Decimal(string: ask)! }
    }

    /// How far the ticks' market time runs ahead of the wall clock, µs.
    var offset: Int64 {
        get { shared.quote.withLock { $0.offset } }
        set { shared.quote.withLock { $0.offset = newValue } }
    }

    /// Moves the market clock so the next ticks are stamped `seconds` after `instant`.
    func move(to instant: Date, plus seconds: Double = 0) {
        offset = Int64((instant.timeIntervalSinceNow + seconds) * 1e6)
    }

    func stop() { shared.running.store(false, ordering: .relaxed) }
}
