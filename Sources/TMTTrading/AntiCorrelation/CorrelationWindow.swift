import TMTBase

/// One look-back over which account returns are correlated: `buckets` consecutive buckets of
/// `bucketSeconds` each (so the window spans `bucketSeconds × buckets` seconds), needing at
/// least `minimumOverlap` returns that both accounts have before a correlation counts.
public struct CorrelationWindow: Codable, Sendable, Hashable {
    /// Label used in decisions and in the `window` label of `tmt_account_correlation` (e.g. `5m`).
    public var name: String
    /// Width of one bucket, in seconds; the last equity sample in a bucket is its close.
    public var bucketSeconds: Int
    /// Number of bucket returns kept (the window length in buckets).
    public var buckets: Int
    /// Common returns needed before the correlation counts; fewer means "insufficient data".
    public var minimumOverlap: Int

    public init(name: String, bucketSeconds: Int, buckets: Int, minimumOverlap: Int) {
        self.name = name
        self.bucketSeconds = bucketSeconds
        self.buckets = buckets
        self.minimumOverlap = minimumOverlap
    }

    /// 5 minutes: 30 buckets of 10 s, at least 20 common returns.
    public static let fiveMinutes = CorrelationWindow(name: "5m", bucketSeconds: 10, buckets: 30, minimumOverlap: 20)
    /// 1 hour: 60 buckets of 1 min, at least 20 common returns.
    public static let oneHour = CorrelationWindow(name: "1h", bucketSeconds: 60, buckets: 60, minimumOverlap: 20)
    /// 1 day: 48 buckets of 30 min, at least 20 common returns.
    public static let oneDay = CorrelationWindow(name: "1d", bucketSeconds: 1800, buckets: 48, minimumOverlap: 20)

    /// Total span in seconds.
    public var durationSeconds: Int { bucketSeconds * buckets }

    /// A fresh series shaped for this window: one extra close so `buckets` returns fit.
    public func makeSeries() -> RollingSeries {
        RollingSeries(bucketMicros: Int64(bucketSeconds) * 1_000_000, capacity: buckets + 1)
    }

    /// The first invalid field as `(name, problem)`, or nil.
    func problem() -> (String, String)? {
        if name.isEmpty { return ("name", "must not be empty") }
        if bucketSeconds <= 0 { return ("bucketSeconds", "must be positive, got \(bucketSeconds)") }
        if minimumOverlap < 3 { return ("minimumOverlap", "must be at least 3, got \(minimumOverlap)") }
        if buckets < minimumOverlap { return ("buckets", "must be at least minimumOverlap (\(minimumOverlap)), got \(buckets)") }
        return nil
    }
}
