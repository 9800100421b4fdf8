import TMTBase
import TMTModels

/// A protective level that a tick reached, the closing order the engine created for it, and the
/// result of executing that order against the same tick.
public struct ProtectiveExecution: Sendable, Equatable {
    /// Stop-loss or take-profit.
    public var kind: ProtectiveKind
    /// The level that was reached.
    public var level: Decimal
    /// The closing side's price that reached it (a long's bid, a short's ask).
    public var triggerPrice: Decimal
    /// The closing order's execution; `result.order` is a new working order (market for a stop,
    /// limit at the target for a take-profit, risk-reducing, good till cancelled) that the agent
    /// persists and keeps working if it did not fill completely. `result.ledger` has the
    /// triggered levels cleared.
    public var result: ExecutionResult

    public init(kind: ProtectiveKind, level: Decimal, triggerPrice: Decimal, result: ExecutionResult) {
        self.kind = kind
        self.level = level
        self.triggerPrice = triggerPrice
        self.result = result
    }
}
