// tmt-aria-risk: position sizing per account for every signal.
import TMTBase
import TMTCore
import TMTPipeline

let runtime = ServiceRuntime.boot(
    service: "aria-risk", executable: "tmt-aria-risk",
    summary: """
    Consumes signals.generated (consumer group aria-risk) and sizes an order for every staging
    account: balance × risk % / (stop distance × value per unit in the account currency), times
    volatility (ATR percentile from stored bars), drawdown, correlation (with open positions) and
    RISK_MULTIPLIER factors, capped by the firm's limits and free margin. Sized orders go to
    orders.proposed with the breakdown; accounts it cannot size for are recorded as skipped with
    the reason. Several instances in the group split the signals between them.
    """,
    defaultPort: 8004,
    extraUsage: """

    Environment: DATABASE_URL and MARKET_DATABASE_URL (required), KAFKA_BOOTSTRAP_SERVERS or
    KAFKA_BOOTSTRAP_FILE, RISK_MULTIPLIER (default 1), COMPLIANCE_CONFIG (accounts and firm limits;
    default <CONFIG_DIR>/compliance-staging.yml), CONSUMER_GROUP.
    """)

do {
    try AriaAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-aria-risk: \(error)\n")
    exit(1)
}
