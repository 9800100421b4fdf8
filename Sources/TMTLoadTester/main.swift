// tmt-load-tester: bounded load against a staging stack's gateway (HTTP) or its first Kafka hop.
import Foundation
import TMTCore
import TMTStagingTools

let usage = """
Usage: tmt-load-tester [http] [--users N] [--duration S] [--paths P,P,…] [--json FILE]
       tmt-load-tester kafka [--messages N] [--rate N] [--duration S] [--json FILE]

http (default): N concurrent users, each on one keep-alive connection, GET the gateway's read
  and health endpoints round robin for a bounded time; reports requests/s, latency percentiles
  (p50/p95/p99/max), errors and non-2xx answers, per path.
    --users N         concurrent users (default 50, at most 1000)
    --duration S      seconds of load (default 30, at most 600)
    --max-requests N  stop after N requests in all (default 10,000,000)
    --paths P,…       default /health,/api/v1/accounts,/api/v1/positions,/api/v1/orders?limit=20
    --target URL      default TMT_API_URL or http://127.0.0.1:8000

kafka: pushes seeded ticks onto market.ticks (the pipeline's first hop: Wyckoff decodes each and
  applies it to its bars), continuing from the stack's newest prices so that no instrument jumps
  (each instrument's quote on the execution engine's quote board at REDIS_URL, key
  MARKET_QUOTES_KEY, unless the close of its newest bar at MARKET_DATABASE_URL is newer; with
  neither, the generator's starting price), and follows Wyckoff's consumption and lag on its /metrics; reports the
  produce rate, the sustained consumption rate while loaded, how far it falls behind over time
  (ticks the broker acknowledged, not yet consumed) and the time to
  drain after the last message; and, where kcat is installed, raw librdkafka consumption on the
  same broker in the same run (see --raw) and Wyckoff's rate as a fraction of it.
    --messages N      ticks to push (default 200,000, at most 5,000,000)
    --rate N          ticks per second (default 0: as fast as the producer goes)
    --duration S      stop producing after S seconds even if messages remain (default 120)
    --drain S         longest wait for Wyckoff to catch up afterwards (default 60)
    --market-time W   time of the ticks: now, weekday (default) or ISO 8601
    --raw WHICH       raw librdkafka references (kcat): same-run (kcat follows the load alongside
                      Wyckoff with Wyckoff's fetch settings; both timed from the first tick
                      produced to having read them all), after (kcat reads the retained backlog
                      once the run is over, from process start), both (default) or none

Common:
  --json FILE        write the figures as JSON
  --help             this text

Safety: the load tester refuses to run unless LOAD_TESTING_ENABLED=true (deployment/staging/staging.env)
and only targets loopback addresses, or hosts listed in LOAD_TEST_TARGET_HOSTS (compose sets the
gateway's service name). Environment as tmt-integration-tester (TMT_API_URL, AGENT_URLS,
KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_FILE; REDIS_URL, MARKET_QUOTES_KEY and
MARKET_DATABASE_URL for the starting prices).

Exit status: 0 the run completed with no errors, 1 errors or non-2xx answers (http) or a lag that
did not drain (kafka), 2 bad arguments or load testing not enabled, 3 the target could not be reached.
"""

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
var mode = "http"
if let first = arguments.first, !first.hasPrefix("-") {
    mode = first
    arguments.removeFirst()
}
func refuse(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tmt-load-tester: \(message)\n".utf8))
    exit(ToolExit.usage)
}
let env = Environment()
guard env.string("LOAD_TESTING_ENABLED", default: "false").lowercased() == "true" else {
    refuse("LOAD_TESTING_ENABLED is not true: load tests run only where staging enables them (deployment/staging/staging.env)")
}
let endpoints: StackEndpoints
do { endpoints = try StackEndpoints(environment: env) } catch { refuse("\(error)") }
let allowedHosts = Set((env.string("LOAD_TEST_TARGET_HOSTS") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
func allowed(_ url: String) -> Bool {
    StackEndpoints.isLoopback(url) || (URLComponents(string: url)?.host.map { allowedHosts.contains($0.lowercased()) } ?? false)
}

do {
    switch mode {
    case "http":
        let options = try HTTPLoad.Options(arguments, defaultTarget: endpoints.gateway)
        guard allowed(options.target) else {
            refuse("\(options.target) is neither a loopback address nor listed in LOAD_TEST_TARGET_HOSTS")
        }
        exit(try HTTPLoad(options: options).run())
    case "kafka":
        let options = try KafkaLoad.Options(arguments)
        let kafka = try KafkaConfiguration.fromEnvironment(env, clientId: "load-tester")
        // Both clusters: the ticks go to the market-data one when it is set.
        let servers = (kafka.bootstrapServers + "," + kafka.forMarketData().bootstrapServers).split(separator: ",")
        for server in servers where !allowed("kafka://\(server)") {
            refuse("Kafka bootstrap \(server) is neither a loopback address nor listed in LOAD_TEST_TARGET_HOSTS")
        }
        guard let wyckoff = endpoints.agents.first(where: { $0.name == "wyckoff-analysis" }), allowed(wyckoff.url) else {
            refuse("AGENT_URLS names no wyckoff-analysis on an allowed host")
        }
        exit(try KafkaLoad(options: options, kafka: kafka, wyckoff: wyckoff.url, endpoints: endpoints).run())
    default:
        refuse("unknown mode '\(mode)': http or kafka (see --help)")
    }
} catch let e as ToolUsageError {
    refuse("\(e.description) (see --help)")
} catch {
    FileHandle.standardError.write(Data("tmt-load-tester: \(error)\n".utf8))
    exit(ToolExit.unavailable)
}
