// tmt-benchmarks: the foundation's comparisons, each against a reference in the same run.
import Foundation
import TMTCore

let usage = """
Usage: tmt-benchmarks COMMAND [OPTIONS]

Measures the foundation against references on this machine, in one run, and prints the figures
(BENCHMARKS.md records them). Build in release mode first:
  swift build -c release --product tmt-benchmarks && .build/release/tmt-benchmarks http

Commands:
  http       wrk against our HTTP server's /health and against nginx serving a static file
             --seconds N (default 10)  --connections N (default 50)  --threads N (default 2)
             --gateway URL  also a running stack's API gateway (e.g. http://127.0.0.1:8000): its
             aggregated /health and /api/v1/accounts, same wrk settings, same run; the bearer
             token from TMT_API_TOKEN or the file TMT_API_TOKEN_FILE names
  kafka      produce→consume through our KafkaProducer/KafkaConsumer vs kcat, same broker,
             --repeat N runs (default 5), medians reported
             --count N (default 100000)  --size BYTES (default 100); the dev broker
             retains only ~5 MiB per partition, so count × size is capped at 16 MiB  --bootstrap HOST:PORT
             (default: the test services' dev broker, .state/test-services/kafka.bootstrap)
  postgres   parameterised inserts and point selects per second through PostgresPool
             --seconds N (default 5)  --threads N (default 4)  --url URL (default: the test
             services' trading database)
  ticks      the first hop's own work per tick without a broker: decoding Envelope<Tick>,
             folding ticks into M1 bars and analysing each closed bar, one thread
             --count N (default 200000)  --repeat N passes, best reported (default 3)
  analytics  continuous improvement's analytics run without the database: the closed-trade
             replay of every fill and the report (all trades, by pattern, instrument, account)
             --trades N,N,… closed trades (default 700,5000,20000)  --repeat N passes, best
             reported (default 3)
  all        http, kafka and postgres with their defaults

Every command prints progress on stderr and a Markdown table on stdout.
"""

func option(_ args: [String], _ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func intOption(_ args: [String], _ name: String, _ def: Int) -> Int {
    guard let raw = option(args, name) else { return def }
    guard let v = Int(raw), v > 0 else {
        FileHandle.standardError.write(Data("tmt-benchmarks: \(name) needs a positive integer, got '\(raw)'\n".utf8))
        exit(2)
    }
    return v
}

func progress(_ s: String) {
    FileHandle.standardError.write(Data("… \(s)\n".utf8))
}

/// Where the test services keep their state (`scripts/test-services.sh`).
func testServicesFile(_ name: String) -> String {
    let base = ProcessInfo.processInfo.environment["TMT_STATE_DIR"] ?? FileManager.default.currentDirectoryPath + "/.state"
    return base + "/test-services/" + name
}

func testServicesVariable(_ key: String) -> String? {
    guard let text = try? String(contentsOfFile: testServicesFile("env"), encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(key + "=") {
        return String(line.dropFirst(key.count + 1))
    }
    return nil
}

signal(SIGPIPE, SIG_IGN)
let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first, command != "--help", command != "-h" else {
    print(usage)
    exit(args.isEmpty ? 2 : 0)
}
let rest = Array(args.dropFirst())
if rest.contains("--help") {
    print(usage)
    exit(0)
}

do {
    #if DEBUG
    FileHandle.standardError.write(Data("tmt-benchmarks: warning: this is a debug build; figures are not representative (use -c release)\n".utf8))
    #endif
    switch command {
    case "http":
        var gateway: HTTPBenchmark.Gateway?
        if let url = option(rest, "--gateway") {
            let env = ProcessInfo.processInfo.environment
            var token = env["TMT_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            if token == nil, let file = env["TMT_API_TOKEN_FILE"], !file.isEmpty {
                token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            gateway = HTTPBenchmark.Gateway(url: url.hasSuffix("/") ? String(url.dropLast()) : url, token: token)
        }
        try HTTPBenchmark.run(seconds: intOption(rest, "--seconds", 10), connections: intOption(rest, "--connections", 50),
                              threads: intOption(rest, "--threads", 2), gateway: gateway)
    case "kafka":
        try KafkaBenchmark.run(count: intOption(rest, "--count", 100_000), size: intOption(rest, "--size", 100),
                               bootstrap: option(rest, "--bootstrap"), repeats: intOption(rest, "--repeat", 5))
    case "postgres":
        try PostgresBenchmark.run(seconds: intOption(rest, "--seconds", 5), threads: intOption(rest, "--threads", 4),
                                  url: option(rest, "--url"))
    case "ticks":
        try TickBenchmark.run(count: intOption(rest, "--count", 200_000), repeats: intOption(rest, "--repeat", 3))
    case "analytics":
        let raw = option(rest, "--trades") ?? "700,5000,20000"
        let counts = raw.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.count == raw.split(separator: ",").count, counts.allSatisfy({ $0 > 0 }) else {
            FileHandle.standardError.write(Data("tmt-benchmarks: --trades needs positive integers separated by commas, got '\(raw)'\n".utf8))
            exit(2)
        }
        try AnalyticsBenchmark.run(trades: counts, repeats: intOption(rest, "--repeat", 3))
    case "all":
        try HTTPBenchmark.run(seconds: 10, connections: 50, threads: 2)
        try KafkaBenchmark.run(count: 100_000, size: 100, bootstrap: nil)
        try PostgresBenchmark.run(seconds: 5, threads: 4, url: nil)
    default:
        FileHandle.standardError.write(Data("tmt-benchmarks: unknown command '\(command)' (see --help)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("tmt-benchmarks: \(error)\n".utf8))
    exit(1)
}
