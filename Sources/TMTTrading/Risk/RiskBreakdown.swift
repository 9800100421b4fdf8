import TMTBase

/// Every figure that went into a size, in the order it was computed. Fields stay nil when the
/// sizing stopped (skipped) before reaching them. `figures` renders them as decimal strings
/// for the order's `Decision`.
///
/// Invariant when sized: `adjustedLots = rawLots × volatility × drawdown × correlation ×
/// riskMultiplier` exactly, and `finalLots` is the smallest of `adjustedLots` and the caps,
/// rounded down to `lotStep`.
public struct RiskBreakdown: Sendable, Equatable {
    /// A limit on the order's size and where it came from.
    public struct Cap: Sendable, Equatable {
        /// The kinds of cap, in the order they are applied.
        public enum Kind: String, Sendable, CaseIterable {
            /// The firm's maximum lots per order.
            case maxLotsPerOrder
            /// The firm's maximum net position in the instrument.
            case maxPosition
            /// What is left of the daily loss limit, divided by the loss per lot at the stop.
            case dailyLoss
            /// What is left above the maximum-loss floor, divided by the loss per lot at the stop.
            case maxLoss
            /// Usable free margin divided by the margin per lot.
            case margin
        }

        /// Which limit.
        public var kind: Kind
        /// Largest size it allows, lots (8 places, rounded down).
        public var lots: Decimal
        /// How it was derived.
        public var detail: String

        public init(kind: Kind, lots: Decimal, detail: String) {
            self.kind = kind
            self.lots = lots
            self.detail = detail
        }
    }

    /// Account sized for.
    public var accountId: String
    /// Account currency; every amount below is in it.
    public var currency: String
    /// Account balance.
    public var balance: Decimal
    /// Account equity (balance + open P&L).
    public var equity: Decimal
    /// Percent of the balance risked.
    public var riskPercent: Decimal?
    /// balance × riskPercent / 100.
    public var riskAmount: Decimal?
    /// The signal's entry.
    public var entry: Decimal?
    /// The price a market order is expected to fill at (live ask for a buy, bid for a sell;
    /// the signal's entry when no quote is known).
    public var referencePrice: Decimal?
    /// Where `referencePrice` came from.
    public var priceSource: String?
    /// |price − stop| in price units: the larger of the distance from the entry and from the
    /// reference price, so a stale entry never shrinks the real risk.
    public var stopDistance: Decimal?
    /// Quote currency → account currency, with the quotes used.
    public var conversion: CurrencyConverter.Conversion?
    /// Account currency per 1.0 price move for one lot (contractSize × rate).
    public var valuePerLot: Decimal?
    /// Account currency per pip for one lot.
    public var valuePerPip: Decimal?
    /// Loss of one lot at the stop (stopDistance × valuePerLot).
    public var lossPerLot: Decimal?
    /// riskAmount / lossPerLot, 8 places rounded down.
    public var rawLots: Decimal?
    /// Volatility factor and its inputs.
    public var volatility: VolatilityFactor?
    /// Drawdown factor and its inputs.
    public var drawdown: DrawdownFactor?
    /// Correlation factor and its inputs.
    public var correlation: CorrelationFactor?
    /// `RISK_MULTIPLIER`.
    public var riskMultiplier: Decimal
    /// volatility × drawdown × correlation × riskMultiplier.
    public var combinedFactor: Decimal?
    /// rawLots × combinedFactor, before caps.
    public var adjustedLots: Decimal?
    /// Margin one lot needs at the reference price.
    public var marginPerLot: Decimal?
    /// Margin the open positions use (at their latest mid).
    public var usedMargin: Decimal?
    /// equity − usedMargin.
    public var freeMargin: Decimal?
    /// freeMargin less the configured buffer.
    public var usableMargin: Decimal?
    /// Caps considered, in `Cap.Kind` order.
    public var caps: [Cap]
    /// What set the size: `risk` or a cap kind.
    public var boundBy: String?
    /// The instrument's lot step.
    public var lotStep: Decimal?
    /// The size proposed, lots; 0 when skipped.
    public var finalLots: Decimal

    public init(accountId: String, currency: String, balance: Decimal, equity: Decimal, riskMultiplier: Decimal) {
        self.accountId = accountId
        self.currency = currency
        self.balance = balance
        self.equity = equity
        self.riskMultiplier = riskMultiplier
        caps = []
        finalLots = 0
    }

    /// The cap of `kind`, if it was considered.
    public func cap(_ kind: Cap.Kind) -> Cap? { caps.first { $0.kind == kind } }

    /// Named figures as decimal strings (notes as text), for `Decision.figures`.
    public var figures: [String: String] {
        var f: [String: String] = [
            "account": accountId,
            "currency": currency,
            "balance": RiskDecimal.fixed(balance, 2),
            "equity": RiskDecimal.fixed(equity, 2),
            "riskMultiplier": "\(riskMultiplier)",
            "finalLots": "\(finalLots)",
        ]
        func put(_ key: String, _ value: Decimal?, _ places: Int? = nil) {
            guard let value else { return }
            f[key] = places.map { RiskDecimal.fixed(value, $0) } ?? "\(value)"
        }
        put("riskPercent", riskPercent)
        put("riskAmount", riskAmount, 2)
        put("entry", entry)
        put("referencePrice", referencePrice)
        if let priceSource { f["priceSource"] = priceSource }
        put("stopDistance", stopDistance)
        if let conversion {
            f["conversion"] = "\(conversion.from)→\(conversion.to): \(conversion.path)"
            put("valuePerUnit", conversion.rate, 10)
        }
        put("valuePerLot", valuePerLot, 4)
        put("valuePerPip", valuePerPip, 4)
        put("lossPerLot", lossPerLot, 4)
        put("rawLots", rawLots)
        if let v = volatility {
            put("volatilityFactor", v.factor)
            if let atr = v.atr { f["atr"] = String(cFormat: "%.8g", atr) }
            put("atrPercentile", v.percentile)
            f["atrSamples"] = "\(v.samples)"
            if let note = v.note { f["volatilityNote"] = note }
        }
        if let d = drawdown {
            put("drawdownFactor", d.factor)
            put("drawdownPercent", d.drawdownPercent, 2)
            put("drawdownHighWaterFactor", d.highWaterFactor)
            put("dailyLossUsedPercent", d.dailyLossUsedPercent, 2)
            put("drawdownDailyFactor", d.dailyFactor)
        }
        if let c = correlation {
            put("correlationFactor", c.factor)
            put("correlationEffective", c.effectiveCorrelation)
            if let s = c.strongest { f["correlationStrongest"] = s.summary }
            for e in c.exposures {
                f["correlation.\(e.instrument)"] = "\(RiskDecimal.fixed(e.correlation, 4)) "
                    + "(\(e.positionSide == .buy ? "long" : "short") \(e.quantity) lots, signed \(RiskDecimal.fixed(e.signedCorrelation, 4)), "
                    + "\(e.samples) returns)"
            }
            if !c.notes.isEmpty { f["correlationNote"] = c.notes.joined(separator: "; ") }
        }
        put("combinedFactor", combinedFactor)
        put("adjustedLots", adjustedLots)
        put("marginPerLot", marginPerLot, 2)
        put("usedMargin", usedMargin, 2)
        put("freeMargin", freeMargin, 2)
        put("usableMargin", usableMargin, 2)
        for cap in caps { f["cap.\(cap.kind.rawValue)"] = "\(cap.lots)" }
        if let boundBy { f["boundBy"] = boundBy }
        put("lotStep", lotStep)
        return f
    }
}
