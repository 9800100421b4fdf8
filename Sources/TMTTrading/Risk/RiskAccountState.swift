import TMTBase
import TMTModels

/// One account as ARIA sizes for it: its balances, its open positions and its firm's limits.
public struct RiskAccountState: Sendable, Equatable {
    /// Balance, equity, daily P&L, high-water mark and currency.
    public var account: Account
    /// Open (netted) positions of the account; flat ones are ignored.
    public var positions: [Position]
    /// The firm's caps for this account.
    public var limits: RiskLimits

    public init(account: Account, positions: [Position] = [], limits: RiskLimits = .none) {
        self.account = account
        self.positions = positions
        self.limits = limits
    }
}
