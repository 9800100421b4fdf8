import TMTBase
import TMTModels

/// One round trip (entry to exit) that continuous improvement learns from: built by the agent
/// from fills/positions, or by a shadow simulation on historical bars.
public struct ClosedTrade: Codable, Sendable, Equatable {
    /// Unique id (a position id, or a shadow trade id).
    public var id: String
    /// The account the trade was booked on.
    public var account: String
    /// Instrument symbol, e.g. `EURUSD`.
    public var instrument: String
    /// The Wyckoff pattern (or any strategy label) that produced the signal.
    public var pattern: String
    /// Direction of the entry.
    public var side: Side
    /// Entry time, milliseconds since the Unix epoch.
    public var entryTime: Int64
    /// Entry price in the instrument's quote currency.
    public var entryPrice: Decimal
    /// Exit time, milliseconds since the Unix epoch; orders the equity curve.
    public var exitTime: Int64
    /// Exit price in the instrument's quote currency.
    public var exitPrice: Decimal
    /// Traded quantity in units (not lots).
    public var quantity: Decimal
    /// Gross realised P&L in the account currency, before commission.
    public var pnl: Decimal
    /// Commission paid in the account currency, as a positive cost (0 when free).
    public var commission: Decimal
    /// The experiment whose parameter variant produced the opening signal (the signal's
    /// `evidence["experiment"]`); nil for a baseline trade. A rollout judges its variant only on
    /// trades tagged with it, never on account membership.
    public var experiment: String?
    /// When the order that opened the position was created, milliseconds since the Unix epoch
    /// on the wall clock (`entryTime` is market time, which a simulated market runs ahead of or
    /// behind it). A rollout stage, which starts on the wall clock, counts the trades opened by
    /// orders created after it. Nil when unknown (shadow trades).
    public var orderedAt: Int64?

    public init(id: String, account: String, instrument: String, pattern: String, side: Side,
                entryTime: Int64, entryPrice: Decimal, exitTime: Int64, exitPrice: Decimal,
                quantity: Decimal, pnl: Decimal, commission: Decimal = 0, experiment: String? = nil, orderedAt: Int64? = nil) {
        self.id = id
        self.account = account
        self.instrument = instrument
        self.pattern = pattern
        self.side = side
        self.entryTime = entryTime
        self.entryPrice = entryPrice
        self.exitTime = exitTime
        self.exitPrice = exitPrice
        self.quantity = quantity
        self.pnl = pnl
        self.commission = commission
        self.experiment = experiment
        self.orderedAt = orderedAt
    }

    /// P&L after commission (`pnl − commission`), in the account currency: what every
    /// statistic is computed on, since commission is a real cost of the strategy.
    public var netPnL: Decimal { pnl - commission }
}
