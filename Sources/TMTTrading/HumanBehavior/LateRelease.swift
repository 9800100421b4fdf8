import TMTBase
import TMTModels

/// What becomes of an order that reaches the market late: released when it is at most
/// `maxReleaseLatenessSeconds` behind, or risk-reducing (a position is never left open for the
/// lack of a timely close); otherwise cancelled, with the decision saying why. Typically the agent
/// was down while orders waited, parked in its queue or unread on `orders.decorrelated`: a
/// trader back after an absence does not act on a signal from before it, and the fill would come
/// at whatever the market is by then.
public enum LateRelease {
    /// Where the order was late.
    public enum Stage: Sendable {
        /// Parked in the delay queue: late against its planned release.
        case queued
        /// Read from `orders.decorrelated`: late against when anti-correlation let it through
        /// (or its `notBefore`, if later).
        case arriving
    }

    /// The cancelling decision, or nil when the order goes on.
    ///
    /// - Parameters:
    ///   - due: when it should have gone out (`.queued`) or arrived (`.arriving`), µs since the epoch.
    ///   - now: µs since the epoch.
    public static func cancellation(of order: Order, due: Int64, now: Int64, stage: Stage, maxLatenessSeconds: Double,
                                    agent: String) -> Decision? {
        let late = Double(now - due) / 1e6
        guard late > maxLatenessSeconds, !order.riskReducing else { return nil }
        let what = switch stage {
        case .queued: "released \(String(cFormat: "%.1f", late)) s after its planned time"
        case .arriving: "arrived \(String(cFormat: "%.1f", late)) s after anti-correlation let it through"
        }
        let detail = what + ", more than the \(String(cFormat: "%g", maxLatenessSeconds)) s allowed (HUMAN_MAX_RELEASE_LATENESS_SECONDS): "
            + "the signal is stale (was this agent down?); cancelled rather than traded at today's prices"
        return Decision(agent: agent, verdict: .skipped,
                        checks: [Decision.Check(rule: "releaseLateness", passed: false, detail: detail)],
                        figures: ["dueAt": String(due), "lateSeconds": String(cFormat: "%.3f", late),
                                  "maxLatenessSeconds": String(cFormat: "%g", maxLatenessSeconds)],
                        decidedAt: now)
    }

    /// When a parked order was planned to go out: the later of `agent`'s scheduling decision's
    /// `releaseAt` and the order's `notBefore` (as the delay queue's score was set). Read from the
    /// order rather than the queue, whose score a release pass's lease overwrites. Nil without
    /// such a decision.
    public static func plannedRelease(of order: Order, agent: String) -> Int64? {
        guard let figure = order.decisions.last(where: { $0.agent == agent })?.figures["releaseAt"], let planned = Int64(figure) else {
            return nil
        }
        return max(planned, order.notBefore ?? 0)
    }
}
