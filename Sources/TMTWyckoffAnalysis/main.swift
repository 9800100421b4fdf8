// tmt-wyckoff-analysis: ticks → bars (persisted) → Wyckoff phases, events and signals.
import TMTBase
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading

let service = "wyckoff-analysis"
let runtime = ServiceRuntime.boot(
    service: service, executable: "tmt-wyckoff-analysis",
    summary: """
    Consumes market.ticks (consumer group wyckoff-analysis), builds bars, stores them in the market
    database, scores Wyckoff phases, detects springs, upthrusts, SOS/SOW and LPS/LPSY, and publishes
    signals on signals.generated. Parameters come from config/wyckoff-analysis-staging.yml
    (`parameters:`), DETECTION_INTERVAL (bar seconds), and updates on config.updates, which is
    replayed from the beginning at every start (its own consumer group, earliest offset) so the
    parameters and a staged rollout's variants are rebuilt from the log before ticks are consumed;
    an update it refuses goes to the DLQ once (config_update_refusals), not again at each replay.
    A graceful stop (SIGTERM) saves each instrument's open bar (open_bars); the next process
    resumes it at the instrument's first tick. After a crash the open bar starts again from the
    ticks not yet committed.
    """,
    defaultPort: 8003,
    extraUsage: """

    Environment: MARKET_DATABASE_URL (required; or MARKET_DATABASE_URL_FILE), KAFKA_BOOTSTRAP_SERVERS
    or KAFKA_BOOTSTRAP_FILE, DETECTION_INTERVAL (bar length in seconds, default 60), CONSUMER_GROUP (default wyckoff-analysis),
    KAFKA_AUTO_OFFSET_RESET and the other KAFKA_* tuning variables.
    """)

do {
    try WyckoffAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-wyckoff-analysis: \(error)\n")
    exit(1)
}
