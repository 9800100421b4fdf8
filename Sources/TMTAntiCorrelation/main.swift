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
    An order let through counts in its account's exposure until its first fill or its end on
    orders.blocked (breaker block, human behaviour's late cancel, expiry, cancellation or margin
    rejection in the execution engine); at start and every ANTI_CORRELATION_RECONCILE_SECONDS the
    trading database is asked which of them ended anyway (a missed or no longer retained end), and
    after four days one is dropped whatever happened (tmt_anti_correlation_pending_orders).
    """,
    defaultPort: 8006,
    extraUsage: """

    Environment: DATABASE_URL (required), KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_FILE, CONSUMER_GROUP,
    ANTI_CORRELATION_RECONCILE_SECONDS (default 60, 1–3600).
    """)

do {
    try AntiCorrelationAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-anti-correlation: \(error)\n")
    exit(1)
}
