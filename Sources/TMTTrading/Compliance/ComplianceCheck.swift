import TMTModels

/// The result of one compliance rule for one order.
public struct ComplianceCheck: Sendable, Equatable {
    /// How a failure of a check counts.
    public enum Severity: String, Sendable, Codable {
        /// Rejects the order in every mode.
        case hard
        /// Rejects the order in strict mode (in lenient mode the check carries `.warning`).
        case soft
        /// Never rejects; a failed warning makes the verdict `approvedWithWarnings`.
        case warning
        /// Informational; never fails.
        case info
    }

    /// The rule this check reports on.
    public var rule: ComplianceRule
    /// Whether the rule is satisfied (for warnings: whether the warning level is not reached).
    public var passed: Bool
    /// The rule's severity in the mode the engine ran in.
    public var severity: Severity
    /// The figures behind the result, e.g.
    /// `daily loss 4,120.00 + order risk 500.00 = 4,620.00 USD of limit 5,000.00 (92.4 %)`.
    public var detail: String

    public init(rule: ComplianceRule, passed: Bool, severity: Severity, detail: String) {
        self.rule = rule
        self.passed = passed
        self.severity = severity
        self.detail = detail
    }

    /// Whether this check, failed, rejects the order.
    public var blocks: Bool { !passed && (severity == .hard || severity == .soft) }

    /// Whether this check is a warning that fired.
    public var warns: Bool { !passed && severity == .warning }

    /// The TMTModels form persisted with the order.
    public var decisionCheck: Decision.Check {
        Decision.Check(rule: rule.rawValue, passed: passed, severity: severity.rawValue, detail: detail)
    }
}
