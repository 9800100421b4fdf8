/// Timestamped samples over a sliding window, with de-duplication by id (at-least-once delivery
/// must not count one DLQ message or one order twice) and a cached quantile.
///
/// A sample counts from its time `t` until `t + window` (exclusive): at exactly `window`
/// seconds old it has aged out.
struct BreakerSampleWindow: Sendable {
    struct Sample: Sendable {
        var at: Int64
        var value: Double
        var id: String?
    }

    let windowMicros: Int64
    /// Oldest samples are dropped beyond this many, bounding memory under a flood.
    let capacity: Int
    private var samples: [Sample] = []
    private var head = 0
    private var ids: Set<String> = []
    private var version = 0
    private var cached: (version: Int, quantile: Double, value: Double?)?

    init(windowSeconds: Double, capacity: Int = 10_000) {
        windowMicros = BreakerTime.micros(seconds: windowSeconds)
        self.capacity = capacity
    }

    /// Samples currently inside the window (after the last `prune`).
    var count: Int { samples.count - head }

    /// Adds a sample; false (and nothing added) when `id` is already inside the window.
    @discardableResult
    mutating func add(_ value: Double, at: Int64, id: String?) -> Bool {
        if let id {
            guard !ids.contains(id) else { return false }
            ids.insert(id)
        }
        samples.append(Sample(at: at, value: value, id: id))
        version += 1
        while count > capacity { dropOldest() }
        return true
    }

    /// Drops samples that have aged out at `now`.
    mutating func prune(now: Int64) {
        while head < samples.count, samples[head].at <= now - windowMicros { dropOldest() }
    }

    /// The nearest-rank `q`-quantile of the values (the smallest value with at least `q` of the
    /// samples at or below it); nil when empty.
    mutating func quantile(_ q: Double) -> Double? {
        if let cached, cached.version == version, cached.quantile == q { return cached.value }
        let values = samples[head...].map(\.value).sorted()
        var result: Double?
        if !values.isEmpty {
            // The small epsilon keeps q × n that is an integer in exact arithmetic (0.95 × 20 = 19)
            // from rounding up past it in binary floating point.
            let rank = Int((q * Double(values.count) - 1e-9).rounded(.up))
            result = values[min(max(rank, 1), values.count) - 1]
        }
        cached = (version, q, result)
        return result
    }

    private mutating func dropOldest() {
        if let id = samples[head].id { ids.remove(id) }
        head += 1
        version += 1
        if head > 1024 && head * 2 > samples.count {
            samples.removeFirst(head)
            head = 0
        }
    }
}
