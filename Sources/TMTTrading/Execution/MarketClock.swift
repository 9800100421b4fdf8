import TMTBase

/// The market clock between ticks: tick times are the market's timeline (the generator may run
/// another epoch than the wall clock), so timers that wait "for no newer tick" or for an expiry
/// need market time when no tick arrives. It is the newest tick time seen, advanced by the
/// monotonic time elapsed since, and never goes backwards.
public struct MarketClock: Sendable {
    private let clock: any TMTClock
    private var anchorMarket: Int64?
    private var anchorNanos: UInt64 = 0

    /// A clock with no tick seen yet; `clock` supplies monotonic time.
    public init(clock: any TMTClock) {
        self.clock = clock
    }

    /// Records a tick time (µs). An older tick (another instrument's, a late one) never moves
    /// the clock back.
    public mutating func observe(tickTime: Int64) {
        let current = now()
        anchorMarket = max(tickTime, current ?? tickTime)
        anchorNanos = clock.monotonicNanos()
    }

    /// Market time now, µs; nil before the first tick.
    public func now() -> Int64? {
        guard let anchorMarket else { return nil }
        let elapsed = clock.monotonicNanos() &- anchorNanos
        return anchorMarket + Int64(elapsed / 1_000)
    }
}
