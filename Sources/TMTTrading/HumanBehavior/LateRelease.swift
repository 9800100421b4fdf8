import TMTBase
import TMTModels

/// What becomes of a queued order whose release comes late: released when it is at most
/// `maxReleaseLatenessSeconds` behind its planned time, or risk-reducing (a position is never
/// left open for the lack of a timely close); otherwise cancelled, with the decision saying why.
/// Typically the agent was down while orders waited: a trader back after an absence does not act
/// on a signal from before it, and the fill would come at whatever the market is now.
public enum LateRelease {
    /// The cancelling decision, or nil when the order is to be released.
    ///
    /// - Parameters:
    ///   - releaseAt: the planned release, µs since the epoch (the delay queue's score).
    ///   - now: µs since the epoch.
    public static func cancellation(of order: Order, releaseAt: Int64, now: Int64, maxLatenessSeconds: Double,
                                    agent: String) -> Decision? {
        let late = Double(now - releaseAt) / 1e6
        guard late > maxLatenessSeconds, !order.riskReducing else { return nil }
        let detail = "released \(String(cFormat: "%.1f", late)) s after its planned time, more than the "
            + "\(String(cFormat: "%g", maxLatenessSeconds)) s allowed (HUMAN_MAX_RELEASE_LATENESS_SECONDS): the signal is stale "
            + "(was this agent down?); cancelled rather than traded at today's prices"
        return Decision(agent: agent, verdict: .skipped,
                        checks: [Decision.Check(rule: "releaseLateness", passed: false, detail: detail)],
                        figures: ["plannedReleaseAt": String(releaseAt), "lateSeconds": String(cFormat: "%.3f", late),
                                  "maxLatenessSeconds": String(cFormat: "%g", maxLatenessSeconds)],
                        decidedAt: now)
    }
}
