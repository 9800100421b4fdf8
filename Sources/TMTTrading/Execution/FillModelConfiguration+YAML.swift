import TMTBase
import TMTModels

extension FillModelConfiguration {
    /// Reads a fill-model section (e.g. `config/execution-staging.yml`); every key is optional
    /// and falls back to the staging default, unknown keys fail with file, line and key.
    ///
    /// ```yaml
    /// latency:
    ///   median_ms: 40
    ///   p99_ms: 150
    ///   max_ms: 1000
    ///   seed: 32327
    /// slippage_exponent: 0.5
    /// max_depth_levels: 5
    /// session_scaled_depth: true
    /// quote_wait_ms: 500
    /// max_quote_age_s: 60
    /// market_order_ttl_s: 60
    /// pending_order_ttl_s: 86400      # or gtc
    /// money_scale: 4
    /// average_price_scale: 10
    /// commissions:
    ///   fx:
    ///     per_lot_per_side: 3.5
    ///     currency: USD
    /// liquidity:                      # per symbol; each field overrides that symbol's default
    ///   EUR_USD:
    ///     touch_depth_lots: 20
    ///     level_step_points: 2
    ///     typical_spread_pips: 0.8
    ///     slippage_pips_at_depth: 0.3
    ///     max_slippage_pips: 3
    /// ```
    public init(node: ConfigNode) throws(YAMLError) {
        try node.allowOnly(["latency", "slippage_exponent", "max_depth_levels", "session_scaled_depth", "quote_wait_ms",
                            "max_quote_age_s", "market_order_ttl_s", "pending_order_ttl_s", "money_scale",
                            "average_price_scale", "commissions", "liquidity"])
        var c = FillModelConfiguration.staging
        if let l = node.child("latency") {
            try l.allowOnly(["median_ms", "p99_ms", "max_ms", "seed"])
            c.latency.medianMilliseconds = try l.double("median_ms", default: c.latency.medianMilliseconds)
            c.latency.p99Milliseconds = try l.double("p99_ms", default: c.latency.p99Milliseconds)
            c.latency.maxMilliseconds = try l.double("max_ms", default: c.latency.maxMilliseconds)
            if let s = l.child("seed") {
                let text = try s.asString()
                guard let seed = UInt64(text) else { throw s.error("expected a non-negative integer, got '\(text)'") }
                c.latency.seed = seed
            }
        }
        c.slippageExponent = try node.double("slippage_exponent", default: c.slippageExponent)
        c.maxDepthLevels = try node.int("max_depth_levels", default: c.maxDepthLevels)
        c.scalesDepthBySession = try node.bool("session_scaled_depth", default: c.scalesDepthBySession)
        c.quoteWaitMilliseconds = try node.double("quote_wait_ms", default: c.quoteWaitMilliseconds)
        c.maxQuoteAgeSeconds = try node.double("max_quote_age_s", default: c.maxQuoteAgeSeconds)
        c.marketOrderTimeToLiveSeconds = try node.double("market_order_ttl_s", default: c.marketOrderTimeToLiveSeconds)
        if let ttl = node.child("pending_order_ttl_s") {
            c.pendingOrderTimeToLiveSeconds = try ttl.asString().lowercased() == "gtc" ? nil : ttl.asDouble()
        }
        c.moneyScale = try node.int("money_scale", default: c.moneyScale)
        c.averagePriceScale = try node.int("average_price_scale", default: c.averagePriceScale)

        if let commissions = node.child("commissions") {
            for (key, item) in commissions.children {
                guard let cls = InstrumentClass(rawValue: key) else {
                    throw item.error("unknown instrument class (allowed: \(InstrumentClass.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                try item.allowOnly(["per_lot_per_side", "currency"])
                let current = c.commissions[cls] ?? CommissionRate(perLotPerSide: 0)
                c.commissions[cls] = CommissionRate(perLotPerSide: try item.decimal("per_lot_per_side", default: current.perLotPerSide),
                                                    currency: try item.string("currency", default: current.currency))
            }
        }
        if let liquidity = node.child("liquidity") {
            for (symbol, item) in liquidity.children {
                guard c.instruments[symbol] != nil else {
                    throw item.error("unknown instrument (known: \(c.instruments.keys.sorted().joined(separator: ", ")))")
                }
                try item.allowOnly(["touch_depth_lots", "level_step_points", "typical_spread_pips", "slippage_pips_at_depth",
                                    "max_slippage_pips"])
                var liq = c.liquidity[symbol]
                    ?? InstrumentLiquidity(touchDepthLots: 0, levelStepPoints: 0, typicalSpreadPips: 0, slippagePipsAtDepth: 0,
                                           maxSlippagePips: 0)
                liq.touchDepthLots = try item.decimal("touch_depth_lots", default: liq.touchDepthLots)
                liq.levelStepPoints = try item.int("level_step_points", default: liq.levelStepPoints)
                liq.typicalSpreadPips = try item.double("typical_spread_pips", default: liq.typicalSpreadPips)
                liq.slippagePipsAtDepth = try item.double("slippage_pips_at_depth", default: liq.slippagePipsAtDepth)
                liq.maxSlippagePips = try item.double("max_slippage_pips", default: liq.maxSlippagePips)
                c.liquidity[symbol] = liq
            }
        }
        do {
            try c.validate()
        } catch {
            throw node.error(error.message)
        }
        self = c
    }
}
