import Synchronization
import TMTBase

/// A `Double` that can be added to from many threads without a lock.
@usableFromInline
final class AtomicDouble: Sendable {
    @usableFromInline let bits: Atomic<UInt64>
    init(_ v: Double = 0) { bits = Atomic(v.bitPattern) }

    @inlinable
    func add(_ delta: Double) {
        var old = bits.load(ordering: .relaxed)
        while true {
            let new = (Double(bitPattern: old) + delta).bitPattern
            let (ok, current) = bits.compareExchange(expected: old, desired: new, ordering: .relaxed)
            if ok { return }
            old = current
        }
    }

    @inlinable
    func set(_ v: Double) { bits.store(v.bitPattern, ordering: .relaxed) }

    @inlinable
    var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}

/// A monotonically increasing count. Lock-free.
public final class Counter: Sendable {
    @usableFromInline let storage = AtomicDouble()
    init() {}

    /// Adds `amount` (must be ≥ 0; negative amounts are ignored, counters never go down).
    @inlinable
    public func inc(_ amount: Double = 1) {
        guard amount > 0 else { return }
        storage.add(amount)
    }

    public var value: Double { storage.value }

    /// Mirrors a total kept elsewhere (CPU seconds from /proc, librdkafka statistics): moves the
    /// counter up to `total`; a smaller value (the source restarted) is ignored.
    public func advance(to total: Double) {
        var old = storage.bits.load(ordering: .relaxed)
        while Double(bitPattern: old) < total {
            let (ok, current) = storage.bits.compareExchange(expected: old, desired: total.bitPattern, ordering: .relaxed)
            if ok { return }
            old = current
        }
    }
}

/// A value that goes up and down. Lock-free.
public final class Gauge: Sendable {
    @usableFromInline let storage = AtomicDouble()
    init() {}

    @inlinable public func set(_ v: Double) { storage.set(v) }
    @inlinable public func inc(_ amount: Double = 1) { storage.add(amount) }
    @inlinable public func dec(_ amount: Double = 1) { storage.add(-amount) }
    public var value: Double { storage.value }
}

/// Observations counted into cumulative buckets, with a sum and a count. Lock-free: one atomic
/// per bucket and an atomic sum, so threads observing at once never wait for each other (a lock
/// here convoyed under one-thread-per-connection HTTP load).
public final class Histogram: @unchecked Sendable {
    /// Upper bounds, strictly increasing, without +Inf.
    public let bounds: [Double]
    /// One counter per bound plus +Inf, not cumulative. Allocated once, freed in deinit; only
    /// ever accessed through atomic operations (hence @unchecked Sendable).
    private let counts: UnsafeMutablePointer<Atomic<UInt64>>
    private let sum = AtomicDouble()

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = .allocate(capacity: bounds.count + 1)
        for i in 0...bounds.count { (counts + i).initialize(to: Atomic<UInt64>(0)) }
    }

    deinit {
        counts.deinitialize(count: bounds.count + 1)
        counts.deallocate()
    }

    /// Records one observation.
    public func observe(_ v: Double) {
        // Binary search: first bound ≥ v.
        var lo = 0, hi = bounds.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if bounds[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        counts[lo].wrappingAdd(1, ordering: .relaxed)
        sum.add(v)
    }

    /// Records the seconds elapsed since a `Monotonic.nanos()` reading.
    public func observeSince(_ startNanos: UInt64) {
        observe(Monotonic.secondsSince(startNanos))
    }

    /// Cumulative bucket counts (the last is +Inf), sum and count. The count is the +Inf bucket
    /// by construction, so the exposition's invariants hold even while others observe.
    public func snapshot() -> (buckets: [UInt64], sum: Double, count: UInt64) {
        var cum: [UInt64] = []
        cum.reserveCapacity(bounds.count + 1)
        var running: UInt64 = 0
        for i in 0...bounds.count {
            running &+= counts[i].load(ordering: .relaxed)
            cum.append(running)
        }
        return (cum, sum.value, running)
    }

    /// An estimate of quantile `q` (0…1) by linear interpolation inside the bucket, as
    /// Prometheus's `histogram_quantile` does. `nil` when empty.
    public func quantile(_ q: Double) -> Double? {
        let snap = snapshot()
        guard snap.count > 0 else { return nil }
        let rank = q * Double(snap.count)
        for (i, c) in snap.buckets.enumerated() where Double(c) >= rank {
            if i == bounds.count { return bounds.last }
            let upper = bounds[i]
            let lower = i == 0 ? 0 : bounds[i - 1]
            let prev = i == 0 ? 0 : Double(snap.buckets[i - 1])
            let inBucket = Double(c) - prev
            return inBucket > 0 ? lower + (upper - lower) * (rank - prev) / inBucket : upper
        }
        return bounds.last
    }

    /// Default latency buckets in seconds: 50 µs … 10 s.
    public static let latencyBuckets: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03,
        0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
}

/// What kind of family a metric is.
public enum MetricType: String, Sendable {
    case counter, gauge, histogram
}

/// A metric name with its help text and label names; children per label-value tuple.
public final class MetricFamily<Child: AnyObject & Sendable>: Sendable {
    public let name: String
    public let help: String
    public let type: MetricType
    public let labelNames: [String]
    private let make: @Sendable () -> Child
    let children: Locked<[[String]: Child]>

    init(name: String, help: String, type: MetricType, labelNames: [String], make: @escaping @Sendable () -> Child) {
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.make = make
        children = Locked([:])
    }

    /// The child for these label values (created on first use). Cache it on hot paths.
    public func labels(_ values: String...) -> Child { labels(values) }

    public func labels(_ values: [String]) -> Child {
        precondition(values.count == labelNames.count, "\(name): expected \(labelNames.count) label values, got \(values.count)")
        return children.withLock { map in
            if let c = map[values] { return c }
            let c = make()
            map[values] = c
            return c
        }
    }

    /// Removes a child (e.g. when an account or partition goes away).
    public func remove(_ values: [String]) {
        _ = children.withLock { $0.removeValue(forKey: values) }
    }

    func snapshotChildren() -> [([String], Child)] {
        children.withLock { map in map.map { ($0.key, $0.value) } }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
    }
}

public typealias CounterFamily = MetricFamily<Counter>
public typealias GaugeFamily = MetricFamily<Gauge>
public typealias HistogramFamily = MetricFamily<Histogram>

/// The set of metric families a process exposes on `/metrics`.
///
/// Registering the same name twice with the same type and labels returns the existing family,
/// so independent components can ask for a shared metric; a conflicting re-registration is a
/// programming error and traps.
public final class MetricsRegistry: Sendable {
    private enum Entry: Sendable {
        case counter(CounterFamily)
        case gauge(GaugeFamily)
        case histogram(HistogramFamily)
    }

    private let families = Locked<[String: Entry]>([:])
    private let collectors = Locked<[@Sendable () -> Void]>([])

    public init() {}

    /// The process-wide registry that services expose.
    public static let shared = MetricsRegistry()

    private static func validName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, !("0"..."9").contains(f) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0 == ":" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    private static func validLabel(_ s: String) -> Bool {
        validName(s) && !s.contains(":") && !s.hasPrefix("__")
    }

    private func check(_ name: String, _ labels: [String]) {
        precondition(Self.validName(name), "invalid metric name '\(name)'")
        for l in labels { precondition(Self.validLabel(l) && l != "le", "invalid label name '\(l)' on \(name)") }
    }

    /// A counter family; the name must end in `_total` (the 0.0.4 convention promtool checks).
    public func counter(_ name: String, help: String, labels: [String] = []) -> CounterFamily {
        check(name, labels)
        precondition(name.hasSuffix("_total"), "counter \(name) must end in _total")
        return families.withLock { map in
            if case .counter(let f)? = map[name] {
                precondition(f.labelNames == labels, "\(name) re-registered with other labels")
                return f
            }
            precondition(map[name] == nil, "\(name) already registered as another type")
            let f = CounterFamily(name: name, help: help, type: .counter, labelNames: labels) { Counter() }
            map[name] = .counter(f)
            return f
        }
    }

    public func gauge(_ name: String, help: String, labels: [String] = []) -> GaugeFamily {
        check(name, labels)
        return families.withLock { map in
            if case .gauge(let f)? = map[name] {
                precondition(f.labelNames == labels, "\(name) re-registered with other labels")
                return f
            }
            precondition(map[name] == nil, "\(name) already registered as another type")
            let f = GaugeFamily(name: name, help: help, type: .gauge, labelNames: labels) { Gauge() }
            map[name] = .gauge(f)
            return f
        }
    }

    public func histogram(_ name: String, help: String, labels: [String] = [], buckets: [Double] = Histogram.latencyBuckets) -> HistogramFamily {
        check(name, labels)
        precondition(!buckets.isEmpty && zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 } && buckets.allSatisfy(\.isFinite),
                     "\(name): buckets must be finite and strictly increasing")
        return families.withLock { map in
            if case .histogram(let f)? = map[name] {
                precondition(f.labelNames == labels, "\(name) re-registered with other labels")
                return f
            }
            precondition(map[name] == nil, "\(name) already registered as another type")
            let f = HistogramFamily(name: name, help: help, type: .histogram, labelNames: labels) { Histogram(bounds: buckets) }
            map[name] = .histogram(f)
            return f
        }
    }

    /// Adds a callback run before every exposition, to refresh gauges computed on demand
    /// (process memory, consumer lag, pool sizes).
    public func addCollector(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// Prometheus text format 0.0.4, families sorted by name, children by label values.
    public func exposition() -> String {
        for c in collectors.withLock({ $0 }) { c() }
        let entries = families.withLock { $0 }.sorted { $0.key < $1.key }
        var out = ""
        out.reserveCapacity(4096)
        for (_, entry) in entries {
            switch entry {
            case .counter(let f):
                header(&out, f.name, f.help, "counter")
                for (values, c) in f.snapshotChildren() {
                    sample(&out, f.name, f.labelNames, values, c.value)
                }
            case .gauge(let f):
                header(&out, f.name, f.help, "gauge")
                for (values, g) in f.snapshotChildren() { sample(&out, f.name, f.labelNames, values, g.value) }
            case .histogram(let f):
                header(&out, f.name, f.help, "histogram")
                for (values, h) in f.snapshotChildren() {
                    let snap = h.snapshot()
                    let names = f.labelNames + ["le"]
                    for (i, b) in h.bounds.enumerated() {
                        sample(&out, f.name + "_bucket", names, values + [Self.format(b)], Double(snap.buckets[i]))
                    }
                    sample(&out, f.name + "_bucket", names, values + ["+Inf"], Double(snap.count))
                    sample(&out, f.name + "_sum", f.labelNames, values, snap.sum)
                    sample(&out, f.name + "_count", f.labelNames, values, Double(snap.count))
                }
            }
        }
        return out
    }

    private func header(_ out: inout String, _ name: String, _ help: String, _ type: String) {
        out += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    private func sample(_ out: inout String, _ name: String, _ labelNames: [String], _ values: [String], _ v: Double) {
        out += name
        if !labelNames.isEmpty {
            out += "{"
            for (i, n) in labelNames.enumerated() {
                if i > 0 { out += "," }
                out += n
                out += "=\""
                out += Self.escapeLabel(values[i])
                out += "\""
            }
            out += "}"
        }
        out += " "
        out += Self.format(v)
        out += "\n"
    }

    /// Escapes `\` and line feed, as HELP text requires.
    public static func escapeHelp(_ s: String) -> String { escape(s, quote: false) }

    /// Escapes `\`, `"` and line feed, as label values require.
    public static func escapeLabel(_ s: String) -> String { escape(s, quote: true) }

    /// Works on Unicode scalars: a CR LF is one `Character`, so comparing Characters with "\n"
    /// would let its line feed through unescaped.
    private static func escape(_ s: String, quote: Bool) -> String {
        guard s.unicodeScalars.contains(where: { $0 == "\\" || $0 == "\n" || (quote && $0 == "\"") }) else { return s }
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            switch c {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\"" where quote: out.append(contentsOf: "\\\"".unicodeScalars)
            default: out.append(c)
            }
        }
        return String(out)
    }

    /// Go-compatible float formatting: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    public static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
