// tmt-execution-engine: paper execution of cleared orders against live quotes.
import TMTBase
import TMTCore
import TMTPipeline

let runtime = ServiceRuntime.boot(
    service: "execution-engine", executable: "tmt-execution-engine",
    summary: """
    Paper trading only. Consumes orders.cleared (consumer group execution-engine) and every tick
    of market.ticks (a group of its own per instance, from the latest offset) and fills orders
    through the fill model (latency, spread, adverse slippage, depth, commission), books them in
    exact per-account ledgers with netted positions, and closes positions at their stop-loss or
    take-profit on every tick (market time). Each outcome is written in one transaction (order,
    fills, position, account, order event, account snapshot) and then published on
    executions.fills, positions.updates and accounts.updates (throttled to 4/s per account except
    after fills); an order that ends without trading (any further: expired, cancelled, rejected
    for margin) is published on orders.blocked, so anti-correlation stops counting it as exposure.
    It does not scale out yet: run ONE instance (orders and ticks meet in memory).
    Restart: balances, realised P&L, commission, positions with their stop-loss and take-profit,
    and the orders still working are rebuilt from the database.
    """,
    defaultPort: 8005,
    extraUsage: """

    Environment: PAPER_TRADING=true (required; refuses to start otherwise), MT4_ENABLED (must be
    absent or false), DATABASE_URL (required), KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_FILE,
    COMPLIANCE_CONFIG (staging accounts; default <CONFIG_DIR>/compliance-staging.yml), CONSUMER_GROUP.
    """)

do {
    try ExecutionAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-execution-engine: \(error)\n")
    exit(1)
}
