import Foundation
import TMTCore

/// One `/metrics` page parsed: every sample by name and labels. Enough of the Prometheus text
/// format for our own services (no escapes beyond `\"`, `\\` and `\n` in label values).
public struct MetricsScrape: Sendable {
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public var samples: [Sample]

    public init(text: String) {
        var out: [Sample] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var name = "", labels: [String: String] = [:]
            var rest: Substring
            if let brace = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                name = String(line[..<brace])
                labels = Self.parseLabels(line[line.index(after: brace)..<close])
                rest = line[line.index(after: close)...]
            } else if let space = line.firstIndex(of: " ") {
                name = String(line[..<space])
                rest = line[space...]
            } else { continue }
            let fields = rest.split(separator: " ")
            guard let first = fields.first, let value = Double(first) ?? (first == "+Inf" ? .infinity : nil) else { continue }
            out.append(Sample(name: name, labels: labels, value: value))
        }
        samples = out
    }

    /// Fetches and parses `base/metrics`.
    public static func fetch(_ base: String, client: HTTPClient = HTTPClient(timeout: 5)) throws -> MetricsScrape {
        let r = try client.get(base + "/metrics")
        guard r.status == 200 else { throw TMTError(.connection, "GET \(base)/metrics answered \(r.status)") }
        return MetricsScrape(text: r.text)
    }

    static func parseLabels(_ s: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var i = s.startIndex
        while i < s.endIndex {
            guard let eq = s[i...].firstIndex(of: "=") else { break }
            let key = s[i..<eq].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            var j = s.index(eq, offsetBy: 2, limitedBy: s.endIndex) ?? s.endIndex // past ="
            var value = ""
            while j < s.endIndex, s[j] != "\"" {
                if s[j] == "\\", s.index(after: j) < s.endIndex {
                    j = s.index(after: j)
                    value.append(s[j] == "n" ? "\n" : s[j])
                } else {
                    value.append(s[j])
                }
                j = s.index(after: j)
            }
            labels[key] = value
            i = j < s.endIndex ? s.index(after: j) : j
        }
        return labels
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
