// tmt-integration-tester: checks a deployed staging stack (native or Docker) from the outside.
import Foundation
import TMTCore
import TMTStagingTools

let usage = """
Usage: tmt-integration-tester [options]

Checks a running staging stack from the outside, as its users would: every health endpoint, a
seeded scenario through the whole pipeline with each outcome read back from the API and the
trading database, the metrics every service must expose, and the monitoring (Prometheus rules
and targets, Alertmanager). Prints one line per check and a summary; writes JUnit XML and JSON.

The scenario publishes its own ticks and signals (ids `itest-<run>-…`) on Kafka, for the
accounts in the trading database:
  fill           a signal for one account is sized, approved, cleared and filled: fills and the
                 position in the database, the decision trail through the API (an instrument or
                 an account its breaker halts is passed over for the next one, and named)
  compliance     high-impact releases the tester adds to the news calendar (around the compliance
                 engine's market clock) make it reject an order inside its blackout (lenient
                 mode: a warning)
  correlation    one signal for two accounts: anti-correlation staggers, resizes or skips one;
                 a pair that holds positions (or that anti-correlation already relates) is
                 restarted first as fresh challenges (POST /api/v1/accounts/restart), since
                 what they hold decides the verdict
  breaker        POST /api/v1/breaker/trip halts an account, its next order is blocked by the
                 circuit breaker, POST /api/v1/breaker/reset clears it; 401 without the token
The news releases are removed afterwards. Orders are real paper orders on the staging accounts.

Options:
  --report-dir DIR     write DIR/integration-report.xml (JUnit) and .json
  --timeout SECONDS    longest wait for one order to reach its outcome (default 120)
  --market-time WHEN   time of the tester's ticks: now, weekday (default: now, or the previous
                       Thursday at the same time when now is in the weekend cut-off, Friday 19:00
                       UTC to Sunday 24:00, when every staging firm refuses new risk) or an ISO 8601
                       instant; now and weekday continue from the stack's market clock when it is
                       ahead, and move past a high- or medium-impact release within 10 minutes
                       (the news blackout would refuse every order)
  --only SUITES        comma-separated subset of: health, metrics, monitoring, pipeline
  --seed N             seed of the tick walk (default 7)
  --accounts A,B,C     the three accounts the scenario trades (default the first three in the
                       trading database)
  --help               this text

Environment (as `deploy-staging.sh --env` prints): TMT_API_URL (default http://127.0.0.1:8000),
TMT_API_TOKEN or TMT_API_TOKEN_FILE, AGENT_URLS (name=url,…; default the eight agents on
127.0.0.1:8001…8008), DATABASE_URL (+ DATABASE_URL_PASSWORD_FILE), MARKET_DATABASE_URL
(optional: starting prices from the latest bars), KAFKA_BOOTSTRAP_SERVERS or
KAFKA_BOOTSTRAP_FILE, PROMETHEUS_URL (default http://127.0.0.1:9091; empty skips), ALERTMANAGER_URL
(default http://127.0.0.1:9094; empty skips).

Exit status: 0 every check passed, 1 a check failed, 2 bad arguments or configuration,
3 the stack could not be reached.
"""

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}

let options: IntegrationOptions
do {
    options = try IntegrationOptions(arguments)
} catch {
    FileHandle.standardError.write(Data("tmt-integration-tester: \(error)\n(see --help)\n".utf8))
    exit(ToolExit.usage)
}

let logger = Logger(service: "integration-tester", level: LogLevel(name: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "warning") ?? .warning)
let report = ToolReport(tool: "integration-tester")
let endpoints: StackEndpoints
do {
    endpoints = try StackEndpoints()
} catch {
    FileHandle.standardError.write(Data("tmt-integration-tester: \(error)\n".utf8))
    exit(ToolExit.usage)
}

print("tmt-integration-tester: gateway \(endpoints.gateway), \(endpoints.agents.count) agents, suites \(options.suites.sorted().joined(separator: ","))")
let checks = StackChecks(endpoints: endpoints, report: report)
if options.suites.contains("health") { checks.health() }
if options.suites.contains("monitoring") { checks.monitoring() }
var extra: [String: Any] = ["gateway": endpoints.gateway]
if options.suites.contains("pipeline") {
    do {
        let scenario = try PipelineScenario(endpoints: endpoints, options: options, report: report, logger: logger)
        extra["run"] = scenario.run
        extra["marketTime"] = ISO8601DateFormatter().string(from: scenario.marketStart)
        scenario.runAll()
        scenario.close()
    } catch {
        report.run("pipeline", "setup") { throw error }
    }
}

// Metrics last: after the scenario every agent has handled messages.
if options.suites.contains("metrics") { checks.metrics() }

print(report.summary)
if let dir = options.reportDirectory {
    do {
        let paths = try report.write(to: dir, name: "integration-report", extra: extra)
        print("reports: \(paths.joined(separator: ", "))")
    } catch {
        FileHandle.standardError.write(Data("tmt-integration-tester: cannot write the reports in \(dir): \(error)\n".utf8))
        exit(ToolExit.unavailable)
    }
}
exit(report.failed == 0 ? ToolExit.passed : ToolExit.failed)
