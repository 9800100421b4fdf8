import TMTBase
import TMTModels

/// Judges proposed orders against the account's prop-firm rules: pure (value in, value out,
/// time from the context's clock), so the agent, replays and tests all get the same answer.
///
/// Every decision lists every rule (see `ComplianceRule` for each rule's class and its stance
/// towards risk-reducing orders). The daily and overall loss limits project the order's worst
/// case: current loss (with open P&L) plus the order's risk to its stop must stay within the
/// limit; reaching the limit exactly is allowed, one cent beyond is not.
public struct ComplianceEngine: Sendable {
    /// The agent name on the `Decision` this engine produces.
    public static let agentName = "compliance-engine"

    /// Firms (and staging accounts) the engine knows.
    public let configuration: ComplianceConfiguration
    /// Strict (default) or lenient handling of soft rules.
    public let mode: ComplianceMode

    /// An engine for `configuration`'s firms in `mode` (default strict; see `ComplianceMode(environment:)`).
    public init(configuration: ComplianceConfiguration, mode: ComplianceMode = .strict) {
        self.configuration = configuration
        self.mode = mode
    }

    /// Evaluates `order` for the account in `context` at `context.clock.now()`.
    ///
    /// An account whose firm is not configured is rejected by the `firm` check alone (fail
    /// closed: without rules nothing else can be judged).
    public func evaluate(order: Order, context: ComplianceContext) -> ComplianceDecision {
        let now = context.clock.now()
        let firm = context.account.firm
        guard let rules = configuration.firms[firm] else {
            let known = configuration.firms.keys.sorted().joined(separator: ", ")
            let check = ComplianceCheck(rule: .firm, passed: false, severity: .hard,
                                        detail: "account \(context.account.id) belongs to firm '\(firm)', which is not configured (known: \(known))")
            return ComplianceDecision(verdict: .rejected, checks: [check],
                                      figures: ["firm": firm, "mode": mode.rawValue], decidedAt: now)
        }
        return ComplianceEvaluation(order: order, context: context, rules: rules, mode: mode, now: now).decide()
    }
}
