import Foundation
import TMTCore

/// One `/metrics` page parsed (by TMTMetrics' `PrometheusSamples`, as the gateway reads its
/// agents), with the sums and histogram arithmetic the tools need.
public struct MetricsScrape: Sendable {
    public typealias Sample = PrometheusSamples.Sample

    public var samples: [Sample]

    public init(text: String) {
        samples = PrometheusSamples(text).samples
    }

    /// Fetches and parses `base/metrics`.
    public static func fetch(_ base: String, client: HTTPClient = HTTPClient(timeout: 5)) throws -> MetricsScrape {
        let r = try client.get(base + "/metrics")
        guard r.status == 200 else { throw TMTError(.connection, "GET \(base)/metrics answered \(r.status)") }
        return MetricsScrape(text: r.text)
    }

    /// Sum of every sample named `name` whose labels include `matching`.
    public func sum(_ name: String, _ matching: [String: String] = [:]) -> Double {
        samples.filter { s in s.name == name && matching.allSatisfy { k, v in s.labels[k] == v } }.reduce(0) { $0 + $1.value }
    }

    /// The histogram `name` (buckets summed over every other label) restricted to `matching`.
    public func histogram(_ name: String, _ matching: [String: String] = [:]) -> Histogram {
        var buckets: [Double: Double] = [:]
        for s in samples where s.name == name + "_bucket" && matching.allSatisfy({ k, v in s.labels[k] == v }) {
            guard let le = s.labels["le"], let bound = le == "+Inf" ? Double.infinity : Double(le) else { continue }
            buckets[bound, default: 0] += s.value
        }
        return Histogram(buckets: buckets, sum: sum(name + "_sum", matching), count: sum(name + "_count", matching))
    }

    /// Cumulative buckets (upper bound → count), their sum and count.
    public struct Histogram: Sendable {
        public var buckets: [Double: Double]
        public var sum: Double
        public var count: Double

        public init(buckets: [Double: Double] = [:], sum: Double = 0, count: Double = 0) {
            self.buckets = buckets
            self.sum = sum
            self.count = count
        }

        /// `self − earlier`: the observations made between two scrapes.
        public func minus(_ earlier: Histogram) -> Histogram {
            var b = buckets
            for (k, v) in earlier.buckets { b[k, default: 0] -= v }
            return Histogram(buckets: b, sum: sum - earlier.sum, count: count - earlier.count)
        }

        public var mean: Double? { count > 0 ? sum / count : nil }

        /// The `q` quantile by linear interpolation within the bucket, as Prometheus's
        /// `histogram_quantile` computes it (an estimate bounded by the bucket edges).
        public func quantile(_ q: Double) -> Double? {
            guard count > 0 else { return nil }
            let sorted = buckets.sorted { $0.key < $1.key }
            let rank = q * count
            var previousBound = 0.0, previousCount = 0.0
            for (bound, cumulative) in sorted {
                if cumulative >= rank {
                    if bound.isInfinite { return previousBound }
                    let inBucket = cumulative - previousCount
                    guard inBucket > 0 else { return bound }
                    return previousBound + (bound - previousBound) * (rank - previousCount) / inBucket
                }
                previousBound = bound
                previousCount = cumulative
            }
            return previousBound
        }
    }
}
