/// Nearest-rank percentiles of a sample (no interpolation: every figure is a value that was
/// measured).
public struct Percentiles: Sendable, Codable, Equatable {
    public var count: Int
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var mean: Double

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ p: Double) -> Double {
            let r = Int((p / 100 * Double(sorted.count)).rounded(.up))
            return sorted[Swift.min(Swift.max(r, 1), sorted.count) - 1]
        }
        count = sorted.count
        p50 = rank(50)
        p95 = rank(95)
        p99 = rank(99)
        max = sorted[sorted.count - 1]
        mean = sorted.reduce(0, +) / Double(sorted.count)
    }

    /// `{"p50":…, "p95":…, "p99":…, "max":…}` for JSON reports (values rounded to 3 places).
    public var object: [String: Double] {
        func r(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
        return ["p50": r(p50), "p95": r(p95), "p99": r(p99), "max": r(max), "mean": r(mean), "count": Double(count)]
    }
}
