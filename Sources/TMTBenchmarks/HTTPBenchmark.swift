import Foundation
import TMTCore

/// Our server's real `/health` (the ServiceRuntime handler, JSON-encoded per request) against
/// nginx serving a static file of the same size, with the same wrk settings, one after the other.
/// With a running stack's gateway (`--gateway URL`), also its aggregated `/health` and its
/// PostgreSQL-backed `/api/v1/accounts` in the same run.
enum HTTPBenchmark {
    /// A deployed API gateway to measure next to nginx.
    struct Gateway {
        var url: String
        var token: String?
    }

    static func run(seconds: Int, connections: Int, threads: Int, gateway: Gateway? = nil) throws {
        let options = try ServiceOptions.parse(service: "benchmark", defaultPort: 0, arguments: [], environment: Environment([:]))
        let runtime = try ServiceRuntime(options: options, logSink: MemoryLogSink(), metrics: MetricsRegistry())
        try runtime.startHTTP()
        defer { runtime.lifecycle.shutdown() }
        let ours = "http://127.0.0.1:\(runtime.httpPort)/health"
        let sample = try HTTPClient(timeout: 5).get(ours)
        guard sample.status == 200 else { throw BenchmarkError("our /health answered \(sample.status)") }

        let nginxPort = runtime.httpPort + 1
        let nginx = try NginxFixture(port: nginxPort, body: sample.text)
        defer { nginx.stop() }

        // The gateway's targets: its aggregated /health and the account list (bearer token when given).
        var targets: [(label: String, url: String, headers: [String])] = []
        if let gateway {
            let headers = gateway.token.map { ["Authorization: Bearer \($0)"] } ?? []
            for (label, path) in [("API gateway /health (aggregated, running stack)", "/health"),
                                  ("API gateway /api/v1/accounts (PostgreSQL read)", "/api/v1/accounts")] {
                let url = gateway.url + path
                let probe = try HTTPClient(timeout: 5).get(url, headers: HTTPHeaders(gateway.token.map { [("Authorization", "Bearer \($0)")] } ?? []))
                guard probe.status == 200 else { throw BenchmarkError("\(url) answered \(probe.status): \(probe.text.prefix(200))") }
                targets.append((label, url, headers))
            }
        }

        progress("warm-up (2 s each)")
        _ = try WrkResult.run(url: ours, threads: threads, connections: connections, seconds: 2)
        _ = try WrkResult.run(url: "http://127.0.0.1:\(nginxPort)/health", threads: threads, connections: connections, seconds: 2)
        for t in targets { _ = try WrkResult.run(url: t.url, threads: threads, connections: connections, seconds: 2, headers: t.headers) }
        progress("wrk → our /health for \(seconds) s")
        let a = try WrkResult.run(url: ours, threads: threads, connections: connections, seconds: seconds)
        progress("wrk → nginx static file for \(seconds) s")
        let b = try WrkResult.run(url: "http://127.0.0.1:\(nginxPort)/health", threads: threads, connections: connections, seconds: seconds)
        var rows = ""
        var ratios = ""
        for t in targets {
            progress("wrk → \(t.url) for \(seconds) s")
            let r = try WrkResult.run(url: t.url, threads: threads, connections: connections, seconds: seconds, headers: t.headers)
            rows += "| \(t.label) | \(f0(r.requestsPerSecond)) | \(f3(r.p50Ms)) | \(f3(r.p99Ms)) | \(r.errors) | \(r.non2xx) |\n"
            ratios += "ratio \(t.label)/nginx: \(f2(r.requestsPerSecond / b.requestsPerSecond))× requests/s\n"
        }

        print("""

        ### HTTP /health — wrk -t\(threads) -c\(connections) -d\(seconds)s (\(sample.body.count)-byte body)

        | server | requests/s | p50 ms | p99 ms | errors | non-2xx |
        |---|---:|---:|---:|---:|---:|
        | TMTHTTP (ServiceRuntime /health) | \(f0(a.requestsPerSecond)) | \(f3(a.p50Ms)) | \(f3(a.p99Ms)) | \(a.errors) | \(a.non2xx) |
        | nginx (static file) | \(f0(b.requestsPerSecond)) | \(f3(b.p50Ms)) | \(f3(b.p99Ms)) | \(b.errors) | \(b.non2xx) |
        \(rows)
        ratio ours/nginx: \(f2(a.requestsPerSecond / b.requestsPerSecond))× requests/s
        \(ratios)
        """)
    }
}

func f0(_ v: Double) -> String { String(format: "%.0f", v) }
func f2(_ v: Double) -> String { String(format: "%.2f", v) }
func f3(_ v: Double) -> String { String(format: "%.3f", v) }
