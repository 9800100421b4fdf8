// tmt-human-behavior: releases orders on a human schedule through a durable Redis delay queue.
import TMTBase
import TMTCore
import TMTPipeline

let runtime = ServiceRuntime.boot(
    service: "human-behavior", executable: "tmt-human-behavior",
    summary: """
    Consumes orders.decorrelated (consumer group human-behavior). Each account has a seeded
    personality: reaction delays, active sessions, breaks, warm-up, and a habit of rounding sizes
    down to friendly steps. Each order is scheduled accordingly (never before an upstream stagger,
    notBefore), parked in a Redis sorted set (score = release time) with the order itself in a Redis
    hash, and published on orders.humanized when due, so queued orders survive a restart.
    Risk-reducing orders are never held more than a couple of seconds. HUMAN_DELAY_SCALE scales the
    delays; 0 releases at once (performance runs). An order more than
    HUMAN_MAX_RELEASE_LATENESS_SECONDS late (released past its planned time, or read that long after
    anti-correlation let it through: the agent was down) is cancelled instead of traded on a stale
    signal (recorded with the reason, published on orders.blocked); risk-reducing orders go on
    however late.
    """,
    defaultPort: 8007,
    extraUsage: """

    Environment: DATABASE_URL and REDIS_URL (required), KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_FILE,
    HUMAN_DELAY_SCALE (default 1), HUMAN_MAX_RELEASE_LATENESS_SECONDS (default 60), CONSUMER_GROUP. Several instances may run: an order due while two
    release loops look at once can be published twice, and downstream agents are idempotent by order id.
    """)

do {
    try HumanBehaviorAgent(runtime: runtime).start()
    runtime.runUntilStopped()
} catch {
    runtime.logger.critical("cannot start", ["error": "\(error)"])
    StandardError.write("tmt-human-behavior: \(error)\n")
    exit(1)
}
