/// The explanation attached to a breaker transition or condition: a cause, a human-readable
/// detail with the figures, and the figures themselves as exact strings (persisted with the
/// event, shown in block reasons).
public struct BreakerReason: Codable, Sendable, Equatable {
    /// What kind of reason.
    public var cause: BreakerCause
    /// E.g. `daily drawdown 4.00 % (loss 4,000.00 of start-of-day equity 100,000.00) ≥ limit 4.00 %`.
    public var detail: String
    /// The numbers behind the detail (`drawdownPercent`, `limitPercent`, …) as exact decimal
    /// strings.
    public var figures: [String: String]
    /// The operator, for command-driven transitions.
    public var requestedBy: String?
    /// The `breaker.commands` id, for command-driven transitions.
    public var commandId: String?

    public init(cause: BreakerCause, detail: String, figures: [String: String] = [:], requestedBy: String? = nil,
                commandId: String? = nil) {
        self.cause = cause
        self.detail = detail
        self.figures = figures
        self.requestedBy = requestedBy
        self.commandId = commandId
    }
}
