// tmt-anti-correlation: keeps the paper accounts from trading as one.
import TMTBase
import TMTCore
import TMTPipeline

let runtime = ServiceRuntime.boot(
    service: "anti-correlation", executable: "tmt-anti-correlation",
    summary: """
    Consumes orders.approved (consumer group anti-correlation). For each order it measures how alike
    the account becomes to every other account — return correlation over 5 min, 1 h and 1 day, and
    exposure similarity after adding the order — and at 0.5 staggers it, at 0.7 also cuts its size by
    5–15 %, at 0.9 skips it with the reason; risk-reducing orders always pass unchanged. Passed
    orders go to orders.decorrelated (a stagger travels as the order's notBefore); skips are stored.
    Account state comes from accounts.updates, positions.updates and executions.fills; prices from
    market.ticks. The correlation matrix is exported as tmt_account_correlation gauges.
    """,
    defaultPort: 8006,
    extraUsage: """

    Environment: DATABASE_URL (required), KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_FILE, CONSUMER_GROUP.
    """)

do {
    try AntiCorrelationAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-anti-correlation: \(error)\n")
    exit(1)
}
