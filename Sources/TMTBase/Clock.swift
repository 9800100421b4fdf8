import Dispatch
import FoundationEssentials
import Glibc
import Synchronization

/// Time as the services see it. Cores take a `TMTClock` so tests can drive time by hand.
public protocol TMTClock: Sendable {
    /// Wall-clock time.
    func now() -> Date
    /// A monotonic reading in nanoseconds, for measuring durations.
    func monotonicNanos() -> UInt64
}

/// The real clock: `Date()` and `CLOCK_MONOTONIC`.
public struct SystemClock: TMTClock {
    public init() {}
    public func now() -> Date { Date() }
    public func monotonicNanos() -> UInt64 { Monotonic.nanos() }
}

/// Monotonic time helpers.
public enum Monotonic {
    /// Nanoseconds on `CLOCK_MONOTONIC`.
    @inline(__always)
    public static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Seconds elapsed since a `nanos()` reading.
    @inline(__always)
    public static func secondsSince(_ start: UInt64) -> Double {
        Double(nanos() &- start) / 1e9
    }
}

/// A clock that only moves when told to; for state-machine and scheduling tests.
public final class ManualClock: TMTClock, @unchecked Sendable {
    private let state: Locked<(Date, UInt64)>

    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = Locked((start, 1_000_000_000))
    }

    public func now() -> Date { state.withLock { $0.0 } }
    public func monotonicNanos() -> UInt64 { state.withLock { $0.1 } }

    /// Moves both readings forward by `seconds`.
    public func advance(by seconds: Double) {
        state.withLock {
            $0.0 = $0.0.addingTimeInterval(seconds)
            $0.1 &+= UInt64(seconds * 1e9)
        }
    }
}
