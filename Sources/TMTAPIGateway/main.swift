// tmt-api-gateway: the REST API in front of the pipeline (port 8000) and the Trading Dashboard (port 3000).
import TMTBase
import TMTCore
import TMTPipeline

// --print-routes: the registered route table, one `METHOD /pattern` a line (the OpenAPI
// consistency test compares it with docs/api/openapi.yaml). Needs no services.
if CommandLine.arguments.dropFirst().contains("--print-routes") {
    for route in Gateway.makeRouter(nil).registeredRoutes { print("\(route.method.rawValue) \(route.pattern)") }
    exit(0)
}

let runtime = ServiceRuntime.boot(
    service: "api-gateway", executable: "tmt-api-gateway",
    summary: """
    The REST API in front of the trading pipeline. GET /health aggregates every agent's /health,
    PostgreSQL, the market database, Redis and Kafka (probed in parallel; 200 only when all are
    healthy, else 503 naming the failing ones). Reads come from the trading database and the
    breaker's Redis snapshot; breaker trip/reset/flatten commands (bearer token) are published on
    breaker.commands and answered with the state the circuit breaker reports. Every mutation
    writes an audit_log row. GET /api/v1/stream is a Server-Sent Events feed of fills, account and
    position updates, breaker events and health changes. The Trading Dashboard (one page, no external
    assets) is served on DASHBOARD_PORT together with the same API routes, so it is same-origin.
    The routes are described in docs/api/openapi.yaml.
    """,
    defaultPort: 8000,
    extraUsage: """

      --print-routes     print the route table (METHOD /pattern per line) and exit

    Environment: DATABASE_URL and REDIS_URL (required), MARKET_DATABASE_URL (probed by /health),
    KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_FILE, TMT_API_TOKEN or TMT_API_TOKEN_FILE (bearer
    token of the mutating routes; unset: they answer 503), AGENT_URLS (name=http://host:port,…;
    default the eight agents on 127.0.0.1:8001-8008), HEALTH_PROBE_TIMEOUT_SECONDS (default 2),
    HEALTH_CACHE_SECONDS (an aggregated /health report answers for this long; default 1),
    BREAKER_COMMAND_TIMEOUT_SECONDS (default 10), BREAKER_SNAPSHOT_KEY (default
    tmt:breaker:snapshot), COMPLIANCE_CONFIG (firm limits; default
    <CONFIG_DIR>/compliance-staging.yml), API_MAX_BODY_BYTES (default 16384), DASHBOARD_PORT
    (default 3000; 0 disables the dashboard; binds HTTP_HOST), STREAM_HEARTBEAT_SECONDS (default 15),
    STREAM_HEALTH_INTERVAL_SECONDS (default 5), STREAM_CLIENT_BUFFER_EVENTS (events queued per stream
    client before it is dropped; default 1024), STREAM_MAX_CLIENTS (default 64), IMPROVEMENT_API_TOKEN or
    IMPROVEMENT_API_TOKEN_FILE (the continuous-improvement agent's token, sent with forwarded
    experiment approve/stop; unset: they answer 503), IMPROVEMENT_COMMAND_TIMEOUT_SECONDS (default 30).
    """)

do {
    try Gateway(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-api-gateway: \(error)\n")
    exit(1)
}
