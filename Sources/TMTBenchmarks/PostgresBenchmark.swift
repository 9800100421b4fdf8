import Foundation
import Synchronization
import TMTCore

/// Parameterised inserts and point selects per second through `PostgresPool`, from several
/// threads, each operation one round trip (prepared statement), with latency percentiles.
enum PostgresBenchmark {
    static func run(seconds: Int, threads: Int, url explicit: String?) throws {
        guard let url = explicit ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? testServicesVariable("TMT_TEST_POSTGRES_URL") else {
            throw BenchmarkError("no database: pass --url, set DATABASE_URL, or run scripts/test-services.sh start")
        }
        var config = try PostgresConfiguration(url: url)
        config.maxConnections = threads
        let pool = try PostgresPool(configuration: config, name: "bench", metrics: MetricsRegistry(),
                                    logger: Logger(service: "bench", sink: MemoryLogSink()))
        defer { pool.shutdown() }
        let table = "bench_accounts_\(UUID().uuidString.prefix(8).lowercased())"
        try pool.execute("CREATE TABLE \(table) (id bigint PRIMARY KEY, account text NOT NULL, balance numeric(20,4) NOT NULL, updated_at timestamptz NOT NULL)")
        defer { _ = try? pool.execute("DROP TABLE \(table)") }

        progress("inserts: \(threads) threads for \(seconds) s into \(table)")
        let nextId = Atomic<Int>(0)
        let insert = try measure(threads: threads, seconds: seconds) {
            let id = nextId.add(1, ordering: .relaxed).newValue
            _ = try pool.execute("INSERT INTO \(table) (id, account, balance, updated_at) VALUES ($1, $2, $3, $4)",
                                 [id, "acc-\(id % 50)", Decimal(100_000) + Decimal(id) / 100, Date()], prepared: true)
        }
        let rows = nextId.load(ordering: .relaxed)
        progress("point selects: \(threads) threads for \(seconds) s over \(rows) rows")
        let counter = Atomic<Int>(0)
        let select = try measure(threads: threads, seconds: seconds) {
            let id = (counter.add(7919, ordering: .relaxed).newValue % rows) + 1
            guard let row = try pool.queryOne("SELECT balance FROM \(table) WHERE id = $1", [id], prepared: true) else {
                throw BenchmarkError("row \(id) missing")
            }
            _ = try row.decode(Decimal.self, column: "balance")
        }

        let fsync = try pool.queryOne("SELECT current_setting('fsync') AS f, current_setting('synchronous_commit') AS s, version() AS v")
        let settings = "fsync=\(try fsync?.decode(String.self, column: "f") ?? "?"), synchronous_commit=\(try fsync?.decode(String.self, column: "s") ?? "?")"
        let version = (try fsync?.decode(String.self, column: "v") ?? "").split(separator: " ").prefix(2).joined(separator: " ")
        print("""

        ### PostgreSQL through PostgresPool — \(threads) threads, \(seconds) s each, prepared statements, \(version) on loopback (\(settings))

        | operation | ops/s | p50 ms | p99 ms |
        |---|---:|---:|---:|
        | parameterised INSERT (4 params, autocommit) | \(f0(insert.rate)) | \(f3(insert.p50)) | \(f3(insert.p99)) |
        | point SELECT by primary key, decode numeric | \(f0(select.rate)) | \(f3(select.p50)) | \(f3(select.p99)) |

        """)
    }

    /// Runs `op` in a loop on `threads` threads for `seconds`, returning the rate and latency.
    static func measure(threads: Int, seconds: Int, _ op: @escaping @Sendable () throws -> Void) throws -> (rate: Double, p50: Double, p99: Double) {
        let latencies = Locked<[Double]>([])
        let failure = Locked<(any Error)?>(nil)
        let done = DispatchGroup()
        let deadline = Monotonic.nanos() + UInt64(seconds) * 1_000_000_000
        let start = Monotonic.nanos()
        for _ in 0..<threads {
            done.enter()
            Thread.detachNewThread {
                var mine: [Double] = []
                mine.reserveCapacity(100_000)
                while Monotonic.nanos() < deadline {
                    let t = Monotonic.nanos()
                    do { try op() } catch { failure.withLock { $0 = error }; break }
                    mine.append(Monotonic.secondsSince(t) * 1000)
                }
                latencies.withLock { $0.append(contentsOf: mine) }
                done.leave()
            }
        }
        done.wait()
        if let e = failure.withLock({ $0 }) { throw e }
        let elapsed = Monotonic.secondsSince(start)
        let sorted = latencies.withLock { $0 }.sorted()
        guard !sorted.isEmpty else { throw BenchmarkError("no operation completed") }
        return (Double(sorted.count) / elapsed, sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
    }
}
