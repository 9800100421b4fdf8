import Foundation
import Synchronization
import TMTCore
import TMTStagingTools

/// N users, each a thread with one keep-alive connection, GETting the paths round robin.
struct HTTPLoad {
    struct Options {
        var users: Int
        var duration: Double
        var maxRequests: Int
        var paths: [String]
        var target: String
        var jsonPath: String?

        init(_ arguments: [String], defaultTarget: String) throws {
            let a = try ToolArguments(arguments, valued: ["--users", "--duration", "--max-requests", "--paths", "--target", "--json"], switches: [])
            users = try a.int("--users", default: 50, range: 1...1000)
            duration = try a.double("--duration", default: 30, range: 1...600)
            maxRequests = try a.int("--max-requests", default: 10_000_000, range: 1...100_000_000)
            paths = (a.string("--paths") ?? "/health,/api/v1/accounts,/api/v1/positions,/api/v1/orders?limit=20")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !paths.isEmpty, paths.allSatisfy({ $0.hasPrefix("/") }) else { throw ToolUsageError("--paths: each path must start with /") }
            target = a.string("--target") ?? defaultTarget
            jsonPath = a.string("--json")
        }
    }

    /// What one user saw.
    struct UserResult {
        var latencies: [Double] = []
        var perPath: [String: (count: Int, latencies: [Double])] = [:]
        var errors = 0
        var non2xx = 0
        var lastError: String?
        var connects = 0
    }

    let options: Options

    func run() throws -> Int32 {
        guard let url = URLComponents(string: options.target), url.scheme == "http", let host = url.host else {
            throw ToolUsageError("--target must be an http:// URL, not '\(options.target)'")
        }
        guard let port = UInt16(exactly: url.port ?? 80), port > 0 else { throw ToolUsageError("--target has no valid port: '\(options.target)'") }
        // Reachable at all?
        let probe = KeepAliveClient(host: host, port: port, timeout: 5)
        do { _ = try probe.get(options.paths[0]) } catch {
            throw TMTError(.connection, "\(options.target) is not reachable: \(error)")
        }
        probe.disconnect()

        print("load-tester http: \(options.users) users × keep-alive GET \(options.paths.joined(separator: ", ")) on \(options.target) for \(Int(options.duration)) s")
        let issued = Atomic<Int>(0)
        let results = Locked<[UserResult]>([])
        let done = DispatchSemaphore(value: 0)
        let deadline = Monotonic.nanos() + UInt64(options.duration * 1e9)
        let started = Date()
        for u in 0..<options.users {
            let paths = options.paths, max = options.maxRequests
            Thread.detachNewThread {
                var r = UserResult()
                let client = KeepAliveClient(host: host, port: port, timeout: 10)
                var i = u
                while Monotonic.nanos() < deadline, issued.add(1, ordering: .relaxed).newValue <= max {
                    let path = paths[i % paths.count]
                    i += 1
                    let t0 = Monotonic.nanos()
                    do {
                        let status = try client.get(path)
                        let ms = Double(Monotonic.nanos() - t0) / 1e6
                        r.latencies.append(ms)
                        r.perPath[path, default: (0, [])].count += 1
                        r.perPath[path]!.latencies.append(ms)
                        if !(200..<300).contains(status) { r.non2xx += 1 }
                    } catch {
                        r.errors += 1
                        r.lastError = "\(error)"
                        usleep(10_000)
                    }
                }
                r.connects = client.connects
                results.withLock { $0.append(r) }
                done.signal()
            }
        }
        var nextReport = 5.0
        var finished = 0
        while finished < options.users {
            if done.wait(timeout: .now() + 0.5) == .success { finished += 1; continue }
            let elapsed = Date().timeIntervalSince(started)
            if elapsed >= nextReport {
                nextReport += 5
                print(String(format: "  … %.0f s: %d requests issued", elapsed, min(issued.load(ordering: .relaxed), options.maxRequests)))
                fflush(nil)
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let all = results.withLock { $0 }
        let latencies = all.flatMap(\.latencies)
        let errors = all.reduce(0) { $0 + $1.errors }, non2xx = all.reduce(0) { $0 + $1.non2xx }
        let p = Percentiles(latencies)
        var perPath: [String: Any] = [:]
        print("")
        print("| path | requests | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|")
        for path in options.paths {
            let l = all.flatMap { $0.perPath[path]?.latencies ?? [] }
            let pp = Percentiles(l)
            print(String(format: "| %@ | %d | %.3f | %.3f |", path, l.count, pp?.p50 ?? 0, pp?.p99 ?? 0))
            perPath[path] = ["requests": l.count, "p50": pp?.p50 ?? 0, "p99": pp?.p99 ?? 0]
        }
        let rps = Double(latencies.count) / seconds
        print("")
        print(String(format: "%d requests in %.1f s = %.0f requests/s; latency p50 %.3f ms, p95 %.3f ms, p99 %.3f ms, max %.3f ms; %d errors, %d non-2xx; %d connections",
                     latencies.count, seconds, rps, p?.p50 ?? 0, p?.p95 ?? 0, p?.p99 ?? 0, p?.max ?? 0, errors, non2xx,
                     all.reduce(0) { $0 + $1.connects }))
        if let e = all.compactMap(\.lastError).first { print("last error: \(e)") }
        if let path = options.jsonPath {
            let object: [String: Any] = [
                "mode": "http", "target": options.target, "users": options.users, "duration_s": seconds,
                "requests": latencies.count, "requests_per_s": (rps * 10).rounded() / 10,
                "latency_ms": p?.object ?? [:], "errors": errors, "non_2xx": non2xx, "paths": perPath,
            ]
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
            print("figures: \(path)")
        }
        return errors == 0 && non2xx == 0 && !latencies.isEmpty ? ToolExit.passed : ToolExit.failed
    }
}
