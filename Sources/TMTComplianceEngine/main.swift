// tmt-compliance-engine: prop-firm rules on every proposed order.
import TMTBase
import TMTCore
import TMTPipeline

let runtime = ServiceRuntime.boot(
    service: "compliance-engine", executable: "tmt-compliance-engine",
    summary: """
    Consumes orders.proposed (consumer group compliance-engine), checks each order against its
    account's prop-firm rules (config/compliance-staging.yml: daily and max loss incl. open P&L,
    max lots and positions, stop-loss, news blackout, Friday cut-off, minimum hold, consistency),
    stores the decision with every rule's result, and publishes the order on orders.approved or on
    compliance.violations with the failing rules named.
    """,
    defaultPort: 8002,
    extraUsage: """

    Environment: DATABASE_URL (required), KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_FILE,
    COMPLIANCE_MODE (strict|lenient; lenient turns soft rules into warnings, never the loss limits),
    COMPLIANCE_CONFIG (default <CONFIG_DIR>/compliance-staging.yml), CONSUMER_GROUP, NEWS_REFRESH_SECONDS
    (how often the news calendar is re-read from the database; default 10).
    """)

do {
    try ComplianceAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-compliance-engine: \(error)\n")
    exit(1)
}
