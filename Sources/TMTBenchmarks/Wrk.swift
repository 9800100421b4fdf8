import Foundation

/// One wrk run's figures, parsed from its `--latency` output.
struct WrkResult {
    var requestsPerSecond: Double
    var p50Ms: Double
    var p99Ms: Double
    var requests: Int
    var errors: Int
    var non2xx: Int

    /// Runs wrk against `url`, sending `headers` ("Name: value") with every request.
    static func run(url: String, threads: Int, connections: Int, seconds: Int, headers: [String] = []) throws -> WrkResult {
        let out = try Subprocess.run("wrk", ["-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency"]
                                         + headers.flatMap { ["-H", $0] } + [url])
        guard out.status == 0 else { throw BenchmarkError("wrk failed: \(out.stderr)\(out.stdout)") }
        return try parse(out.stdout)
    }

    /// Parses wrk's report. Latencies come as e.g. `99%  1.23ms`, `50%  812.00us`, `99%  1.02s`.
    static func parse(_ text: String) throws -> WrkResult {
        var rps: Double?, p50: Double?, p99: Double?, requests = 0, errors = 0, non2xx = 0
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), parts.count >= 2 { rps = Double(parts[1]) }
            if line.hasPrefix("50%"), parts.count >= 2 { p50 = duration(String(parts[1])) }
            if line.hasPrefix("99%"), parts.count >= 2 { p99 = duration(String(parts[1])) }
            if line.contains("requests in"), let n = Int(parts.first ?? "") { requests = n }
            if line.hasPrefix("Non-2xx or 3xx responses:"), let n = Int(parts.last ?? "") { non2xx = n }
            if line.hasPrefix("Socket errors:") {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                errors = line.split(whereSeparator: { $0 == "," || $0 == " " }).compactMap { Int($0) }.reduce(0, +)
            }
        }
        guard let rps, let p50, let p99 else { throw BenchmarkError("cannot parse wrk output:\n\(text)") }
        return WrkResult(requestsPerSecond: rps, p50Ms: p50, p99Ms: p99, requests: requests, errors: errors, non2xx: non2xx)
    }

    static func duration(_ s: String) -> Double? {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] where s.hasSuffix(suffix) {
            if let v = Double(s.dropLast(suffix.count)) { return v * factor }
        }
        return nil
    }
}

/// A private nginx serving one static file on loopback, for the HTTP comparison.
final class NginxFixture {
    let port: Int
    private let dir: String
    private let process: Process

    init(port: Int, body: String) throws {
        self.port = port
        dir = NSTemporaryDirectory() + "tmt-bench-nginx-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
        try body.write(toFile: dir + "/www/health", atomically: true, encoding: .utf8)
        let conf = """
        daemon off;
        worker_processes auto;
        pid \(dir)/nginx.pid;
        error_log \(dir)/error.log warn;
        events { worker_connections 1024; }
        http {
            access_log off;
            client_body_temp_path \(dir)/tmp;
            proxy_temp_path \(dir)/tmp;
            fastcgi_temp_path \(dir)/tmp;
            uwsgi_temp_path \(dir)/tmp;
            scgi_temp_path \(dir)/tmp;
            keepalive_requests 1000000;
            server {
                listen 127.0.0.1:\(port);
                root \(dir)/www;
                default_type application/json;
            }
        }
        """
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        try conf.write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Subprocess.which("nginx"))
        process.arguments = ["-c", dir + "/nginx.conf", "-p", dir]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until it accepts connections.
        for _ in 0..<100 {
            if let r = try? Subprocess.run("curl", ["-sf", "http://127.0.0.1:\(port)/health"]), r.status == 0 { return }
            usleep(50_000)
        }
        process.terminate()
        throw BenchmarkError("nginx did not start on port \(port); see \(dir)/error.log")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
