import TMTBase

/// Which protective level of a position produced a closing order.
public enum ProtectiveKind: String, Codable, Sendable {
    /// The stop-loss: closes at market, slippage applies, gaps fill at the gapped price.
    case stopLoss = "stop-loss"
    /// The take-profit: closes as a limit at the target (never worse, better on a gap).
    case takeProfit = "take-profit"
}
