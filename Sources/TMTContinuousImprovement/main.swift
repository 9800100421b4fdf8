// tmt-continuous-improvement: analytics, shadow parameter tests, proposals and staged rollouts.
import TMTBase
import TMTCore
import TMTPipeline

let runtime = ServiceRuntime.boot(
    service: "continuous-improvement", executable: "tmt-continuous-improvement",
    summary: """
    Learns from the live paper trades and tunes wyckoff-analysis. Analytics: rebuilds every round
    trip from the fills in the trading database (the pattern of the signal that opened the
    position; entry from its opening fills) and computes win rate, profit factor, expectancy,
    Sharpe and max drawdown per pattern, instrument and account, stored in `analytics` and
    exported as tmt_improvement_* gauges; a fill on executions.fills (consumer group
    continuous-improvement) triggers a run (at most every 5 s; only the fills stored since the
    last run are read). Shadow tests: replays the stored 1-minute bars with
    the baseline Wyckoff parameters and with each configured variant (same detector, same paper
    fill model), and proposes a variant on improvement.proposals (stored as a pending experiment)
    only when Welch's t-test gives p < 0.05 and the improvement is at least 1 % on enough trades.
    Rollout: an approved experiment goes to 10, 25, 50, then 100 % of the staging accounts via
    config.updates, judged on the live trades of the variant's accounts against the others; it is
    rolled back at -10 % and stopped at once at -20 %. State lives in `experiments`, so a restart
    resumes the rollout. Run ONE instance (the cycles are not partitioned).
    """,
    defaultPort: 8008,
    extraUsage: """

    Environment: DATABASE_URL and MARKET_DATABASE_URL (required), KAFKA_BOOTSTRAP_SERVERS or
    KAFKA_BOOTSTRAP_FILE, IMPROVEMENT_CYCLE_FAST (true|false, default false: divide every period
    by 60 for staging), IMPROVEMENT_ANALYTICS_INTERVAL_SECONDS / IMPROVEMENT_SHADOW_INTERVAL_SECONDS /
    IMPROVEMENT_ROLLOUT_INTERVAL_SECONDS (override the cycles, taken as is; defaults 300 / 3600 / 60
    before compression), IMPROVEMENT_API_TOKEN or IMPROVEMENT_API_TOKEN_FILE (bearer token of the
    mutating endpoints; without it they answer 503), COMPLIANCE_CONFIG (staging accounts; default
    <CONFIG_DIR>/compliance-staging.yml), WYCKOFF_CONFIG (baseline parameters; default
    <CONFIG_DIR>/wyckoff-analysis-staging.yml if present), DETECTION_INTERVAL, CONSUMER_GROUP
    (default continuous-improvement).
    Config file (cycles, shadow, variants, policy, rollout): see config/continuous-improvement-staging.yml.
    HTTP: GET /api/v1/analytics[?dimension=pattern|instrument|account|overall], GET /api/v1/shadow,
    GET /api/v1/experiments, GET /api/v1/experiments/:id, and with "Authorization: Bearer <token>"
    (optionally "X-Operator: <name>"): POST /api/v1/experiments/:id/approve,
    POST /api/v1/experiments/:id/stop (body {"reason": "..."} optional).
    """)

do {
    try ImprovementAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-continuous-improvement: \(error)\n")
    exit(1)
}
