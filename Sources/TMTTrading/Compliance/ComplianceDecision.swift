import TMTBase
import TMTModels

/// The compliance engine's verdict on one order with every rule's result.
public struct ComplianceDecision: Sendable, Equatable {
    /// `approved`, `approvedWithWarnings` or `rejected`.
    public var verdict: Decision.Verdict
    /// One check per rule, in `ComplianceRule` order (only `firm` when the firm is unknown).
    public var checks: [ComplianceCheck]
    /// The numbers behind the checks as exact decimal strings (`dailyLoss`, `dailyLimit`,
    /// `orderRisk`, `drawdown`, `maxLossLimit`, `tradingDay`, …), persisted with the decision.
    public var figures: [String: String]
    /// When the decision was taken (the context's clock).
    public var decidedAt: Date

    public init(verdict: Decision.Verdict, checks: [ComplianceCheck], figures: [String: String], decidedAt: Date) {
        self.verdict = verdict
        self.checks = checks
        self.figures = figures
        self.decidedAt = decidedAt
    }

    /// The verdict the checks imply: any blocking failure rejects; otherwise any fired warning
    /// approves with warnings.
    public static func verdict(for checks: [ComplianceCheck]) -> Decision.Verdict {
        if checks.contains(where: \.blocks) { return .rejected }
        if checks.contains(where: \.warns) { return .approvedWithWarnings }
        return .approved
    }

    /// The checks that rejected the order (what `compliance.violations` carries).
    public var violations: [ComplianceCheck] { checks.filter(\.blocks) }

    /// The warnings that fired.
    public var warnings: [ComplianceCheck] { checks.filter(\.warns) }

    /// The check of `rule`, if it was evaluated.
    public func check(_ rule: ComplianceRule) -> ComplianceCheck? { checks.first { $0.rule == rule } }

    /// A one-line reason naming each violated rule, e.g. `daily-loss: daily loss …; news-blackout: …`;
    /// nil when approved.
    public var rejectionReason: String? {
        let v = violations
        return v.isEmpty ? nil : v.map { "\($0.rule.rawValue): \($0.detail)" }.joined(separator: "; ")
    }

    /// The TMTModels decision the order carries, from agent `compliance-engine`.
    public var decision: Decision {
        Decision(agent: ComplianceEngine.agentName, verdict: verdict, checks: checks.map(\.decisionCheck), figures: figures,
                 decidedAt: Int64((decidedAt.timeIntervalSince1970 * 1_000_000).rounded()))
    }
}
