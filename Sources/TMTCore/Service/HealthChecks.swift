import TMTBase
import Synchronization

/// Named dependency checks behind `/ready` (and the gateway's aggregated health).
///
/// A check is a blocking closure that throws when its dependency is unreachable (a `SELECT 1`,
/// a Redis `PING`, a Kafka metadata request). Checks run with their latency measured; the last
/// result of each is kept for `/health` detail and for metrics.
public final class HealthChecks: Sendable {
    /// The outcome of one check.
    public struct Result: Codable, Sendable, Equatable {
        public var name: String
        public var healthy: Bool
        /// Probe latency in milliseconds.
        public var latencyMs: Double
        /// The error of the last failed probe; nil when healthy. Never contains secrets
        /// (TMTError messages are safe by construction).
        public var error: String?
        /// When the probe ran, µs since the epoch.
        public var checkedAt: Int64
    }

    private let checks = Locked<[(String, @Sendable () throws -> Void)]>([])
    private let last = Locked<[String: Result]>([:])

    public init() {}

    /// Registers a check.
    public func add(_ name: String, _ check: @escaping @Sendable () throws -> Void) {
        checks.withLock { $0.append((name, check)) }
    }

    /// Runs every check now (sequentially; each should have its own timeout) and returns results
    /// in registration order.
    public func runAll() -> [Result] {
        let list = checks.withLock { $0 }
        var results: [Result] = []
        for (name, check) in list {
            let start = Monotonic.nanos()
            var failure: String?
            do { try check() } catch { failure = "\(error)" }
            let r = Result(name: name, healthy: failure == nil, latencyMs: Monotonic.secondsSince(start) * 1000, error: failure,
                           checkedAt: Int64(Date().timeIntervalSince1970 * 1_000_000))
            results.append(r)
        }
        last.withLock { map in for r in results { map[r.name] = r } }
        return results
    }

    /// The most recent result of each check.
    public var lastResults: [Result] {
        last.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }
}
