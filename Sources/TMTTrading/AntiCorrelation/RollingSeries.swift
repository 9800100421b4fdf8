import TMTBase

/// A fixed-size, time-bucketed series of account values (equity), from which bucket returns are
/// taken for correlation.
///
/// Time is cut into buckets of `bucketMicros`; bucket `k` covers `[k × width, (k + 1) × width)`
/// µs since the epoch and its close is the last value recorded in it. A bucket without a sample
/// carries the previous close forward, because account updates are only sent when something
/// changes: no update means the value did not move, which is a return of 0, not a gap. At most
/// `capacity` closes are kept (the oldest drop out), so at most `capacity − 1` returns.
/// Values are exact `Decimal`; returns are `Double` because they only feed statistics.
public struct RollingSeries: Sendable, Equatable {
    /// Bucket width in µs.
    public let bucketMicros: Int64
    /// Closes kept (returns available = capacity − 1).
    public let capacity: Int
    /// Bucket index of `closes[0]`.
    public private(set) var firstBucket: Int64 = 0
    /// Consecutive bucket closes, oldest first.
    public private(set) var closes: [Decimal] = []
    /// Time of the newest accepted sample, µs.
    public private(set) var lastTime: Int64?

    /// A series with buckets of `bucketMicros` µs keeping `capacity` closes (at least 2).
    public init(bucketMicros: Int64, capacity: Int) {
        precondition(bucketMicros > 0 && capacity >= 2, "RollingSeries needs a positive bucket and capacity ≥ 2")
        self.bucketMicros = bucketMicros
        self.capacity = capacity
    }

    /// The bucket holding time `t` (µs), rounding toward −∞ so negative times bucket consistently.
    public func bucket(of t: Int64) -> Int64 {
        let q = t / bucketMicros
        return (t % bucketMicros < 0) ? q - 1 : q
    }

    /// Index of the newest bucket with a close, or nil while empty.
    public var lastBucket: Int64? { closes.isEmpty ? nil : firstBucket + Int64(closes.count - 1) }

    /// Records `value` observed at `time` (µs). A sample older than the newest one is ignored
    /// (returns false): with at-least-once delivery a late duplicate must not rewrite a close.
    @discardableResult
    public mutating func record(_ value: Decimal, at time: Int64) -> Bool {
        if let lastTime, time < lastTime { return false }
        lastTime = time
        let b = bucket(of: time)
        guard let last = lastBucket, let previous = closes.last else {
            firstBucket = b
            closes = [value]
            return true
        }
        if b == last {
            closes[closes.count - 1] = value
            return true
        }
        // Forward-fill the silent buckets, but never more than the series can hold.
        let gap = b - last - 1
        let fills = Int(min(gap, Int64(capacity)))
        closes.append(contentsOf: repeatElement(previous, count: fills))
        closes.append(value)
        firstBucket = b - Int64(closes.count - 1)
        trim()
        return true
    }

    /// Bucket returns `close_k / close_{k−1} − 1` keyed by bucket `k`, as seen at `now` (µs):
    /// the last close is carried forward to `now`'s bucket, and only the `capacity − 1` returns
    /// ending there are given. Returns over a zero close are left out (undefined).
    public func returns(asOf now: Int64) -> [Int64: Double] {
        guard let last = lastBucket else { return [:] }
        let end = max(bucket(of: now), last)
        let start = end - Int64(capacity - 1) + 1
        var out: [Int64: Double] = [:]
        var k = max(start, firstBucket + 1)
        while k <= end {
            let previous = close(at: k - 1), current = close(at: k)
            let p = DecimalMath.double(previous)
            if p != 0 {
                out[k] = DecimalMath.double(current) / p - 1
            }
            k += 1
        }
        return out
    }

    /// The close of bucket `k`, carrying the newest close forward past the end.
    private func close(at k: Int64) -> Decimal {
        let i = Int(k - firstBucket)
        return i < closes.count ? closes[i] : closes[closes.count - 1]
    }

    private mutating func trim() {
        let excess = closes.count - capacity
        if excess > 0 {
            closes.removeFirst(excess)
            firstBucket += Int64(excess)
        }
    }
}
