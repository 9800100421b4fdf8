/// The rules the compliance engine evaluates, in the order their checks appear in a decision.
/// The raw value is the rule name persisted with each decision and shown in rejections.
///
/// Stance of each rule towards risk-reducing orders (closing or reducing a position, never
/// flipping it) and its class:
///
/// | rule | class | risk-reducing order |
/// |---|---|---|
/// | `order-valid` | hard | checked (fail closed on inconsistent input) |
/// | `daily-loss`, `max-loss` | hard, loss limit | never blocked |
/// | `max-lots` | hard | never blocked (the cap limits new exposure) |
/// | `max-open-positions` | soft | never blocked (it cannot add a position) |
/// | `stop-loss-required` | soft | not required |
/// | `news-blackout`, `friday-cutoff` | soft | never blocked |
/// | `minimum-hold` | soft | **applies** (it is about closes), waived once a loss limit is at its warning level |
/// | `consistency` | soft | never blocked |
/// | `daily-loss-warning`, `max-loss-warning` | warning | reported on current usage |
/// | `trading-days` | info | reported |
///
/// `COMPLIANCE_MODE=lenient` turns soft failures into warnings; hard rules always reject.
public enum ComplianceRule: String, Sendable, CaseIterable, Codable {
    /// The firm of the account is configured.
    case firm = "firm"
    /// The order is consistent and can be priced: positive quantity, the context's account and
    /// instrument, stop on the losing side of entry, pricing present when risk must be projected.
    case orderValid = "order-valid"
    /// Day's loss (start-of-day reference − equity, so open P&L counts) plus the order's risk to
    /// its stop stays within the daily limit.
    case dailyLoss = "daily-loss"
    /// Fails (as a warning) once the projected daily loss reaches the firm's warning level.
    case dailyLossWarning = "daily-loss-warning"
    /// Drawdown from the static or trailing reference plus the order's risk stays within the
    /// overall limit.
    case maxLoss = "max-loss"
    /// Fails (as a warning) once the projected drawdown reaches the firm's warning level.
    case maxLossWarning = "max-loss-warning"
    /// Order quantity within the firm's lots-per-order cap.
    case maxLots = "max-lots"
    /// A new position keeps the count of open positions within the cap.
    case maxOpenPositions = "max-open-positions"
    /// Orders adding risk carry a stop-loss.
    case stopLossRequired = "stop-loss-required"
    /// No new risk within ± N minutes of a release in the order's currencies.
    case newsBlackout = "news-blackout"
    /// No new risk between the weekly cut-off and the market's reopening.
    case fridayCutoff = "friday-cutoff"
    /// Closing a position held less than the minimum time is refused.
    case minimumHold = "minimum-hold"
    /// No new risk while today's realised profit exceeds the best-day share of total profit.
    case consistency = "consistency"
    /// Trading days so far against the payout minimum (informational).
    case tradingDays = "trading-days"

    /// The class of the rule in strict mode.
    public var baseSeverity: ComplianceCheck.Severity {
        switch self {
        case .firm, .orderValid, .dailyLoss, .maxLoss, .maxLots: .hard
        case .maxOpenPositions, .stopLossRequired, .newsBlackout, .fridayCutoff, .minimumHold, .consistency: .soft
        case .dailyLossWarning, .maxLossWarning: .warning
        case .tradingDays: .info
        }
    }

    /// The severity a failure of this rule has in `mode`: lenient mode demotes soft rules to
    /// warnings and leaves every hard rule (the loss limits and max lots among them) hard.
    public func severity(in mode: ComplianceMode) -> ComplianceCheck.Severity {
        let base = baseSeverity
        return base == .soft && mode == .lenient ? .warning : base
    }
}
