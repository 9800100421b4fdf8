// tmt-circuit-breaker: the last gate before execution, and the breakers behind it.
import TMTBase
import TMTCore
import TMTPipeline

let runtime = ServiceRuntime.boot(
    service: "circuit-breaker", executable: "tmt-circuit-breaker",
    summary: """
    Consumes orders.humanized (consumer group circuit-breaker) and clears each order to
    orders.cleared or blocks it to orders.blocked with the breaker and reason, from breakers per
    tier: system (aggregate drawdown, error/DLQ rate, pipeline latency), agent (heartbeats on
    agents.health, errors, processing time), account (daily drawdown from accounts.updates and
    executions.fills) and instrument (price gaps and volatility from market.ticks). Operator
    trip/reset/flatten commands come from breaker.commands. Every breaker starts unknown, which
    halts trading until fresh data confirms it (fail closed). Transitions are stored in
    breaker_events and published on breaker.events; the state is snapshotted to Redis. Commands
    are replayed from the beginning of breaker.commands at every start; those applied before
    (breaker_commands, and the snapshot) are skipped, so a lost snapshot re-applies none.
    The breaker state is global: run exactly ONE instance (the readings consumers use
    per-instance groups, so a second instance would hold a diverging copy).
    """,
    defaultPort: 8001,
    extraUsage: """

    Environment: DATABASE_URL and REDIS_URL (required), KAFKA_BOOTSTRAP_SERVERS or
    KAFKA_BOOTSTRAP_FILE, CIRCUIT_BREAKER_THRESHOLDS_LOOSE (looser threshold preset; the --config
    file's rosters and thresholds: override it),     COMPLIANCE_CONFIG (staging accounts; default <CONFIG_DIR>/compliance-staging.yml), CONSUMER_GROUP,
    BREAKER_SNAPSHOT_KEY (Redis key of the state snapshot; default tmt:breaker:snapshot).
    HTTP: GET /api/v1/breaker, GET /api/v1/breaker/:account.
    """)

do {
    try BreakerAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-circuit-breaker: \(error)\n")
    exit(1)
}
