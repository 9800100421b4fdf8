import TMTBase

/// Time conversions of the breaker: everything persisted or compared is µs since the epoch, so
/// timers survive a restart (wall clock) and comparisons are exact integers.
enum BreakerTime {
    /// `date` in µs since the epoch, rounded to the nearest µs.
    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    /// A duration in seconds as µs, rounded to the nearest µs.
    static func micros(seconds: Double) -> Int64 { Int64((seconds * 1_000_000).rounded()) }
}
