import TMTBase
import TMTModels

/// The paper market: how long an order takes to arrive, how deep the book is, how much a given
/// size slips and what a fill costs in commission. Pure and deterministic (latency is seeded by
/// order id, everything else follows from the quote and the order), so the execution engine and
/// continuous improvement's shadow runs get identical fills from identical inputs.
public struct FillModel: Sendable {
    /// The validated configuration.
    public let configuration: FillModelConfiguration

    /// A model for `configuration` (default `.staging`); throws when a field is invalid.
    public init(configuration: FillModelConfiguration = .staging) throws(TMTError) {
        try configuration.validate()
        self.configuration = configuration
    }

    /// The instrument definition for `symbol`, if configured.
    public func instrument(_ symbol: String) -> Instrument? { configuration.instruments[symbol] }

    // MARK: Latency

    /// This order's latency in µs: lognormal with the configured median and p99, capped at the
    /// maximum. Drawn from a generator seeded by `latency.seed` and the order id alone, so a
    /// redelivered or replayed order gets the same latency.
    public func latencyMicros(orderId: String) -> Int64 {
        let l = configuration.latency
        var rng = SeededRandom.derived(seed: l.seed, stream: "latency:" + orderId)
        // ln(latency) ~ N(μ, σ): μ = ln(median), and p99 = exp(μ + z₀.₉₉ σ) gives σ.
        let z99 = 2.326_347_874_040_841
        let mu = Glibc.log(l.medianMilliseconds)
        let sigma = (Glibc.log(l.p99Milliseconds) - mu) / z99
        let ms = min(Glibc.exp(mu + sigma * rng.normal()), l.maxMilliseconds)
        return Int64((ms * 1000).rounded())
    }

    // MARK: Depth and slippage

    /// Lots available at each level for `instrument` at `time` (µs): the configured touch depth,
    /// scaled by session activity when configured, rounded down to the lot step and never below
    /// one lot step. Zero for an instrument without liquidity settings.
    public func depthPerLevel(instrument: Instrument, at time: Int64) -> Decimal {
        guard let liq = configuration.liquidity[instrument.symbol] else { return 0 }
        var depth = liq.touchDepthLots
        if configuration.scalesDepthBySession {
            let activity = TradingSession.activity(atMicros: time, symbol: instrument.symbol)
            depth = ExecutionMath.floor(depth * Decimal(activity), step: instrument.lotStep)
        }
        return max(depth, instrument.lotStep)
    }

    /// The size-dependent slippage of a pass of `lots` against `quote`:
    /// k × (lots / depth)^α × (current spread / typical spread) pips, capped at the configured
    /// maximum, rounded to the nearest whole point and never negative.
    public func slippage(instrument: Instrument, lots: Decimal, quote: Tick) -> SlippageEstimate {
        guard lots > 0, let liq = configuration.liquidity[instrument.symbol] else { return .none }
        let depth = depthPerLevel(instrument: instrument, at: quote.time)
        let sizeRatio = ExecutionMath.double(lots / depth)
        let spreadPips = max(0, ExecutionMath.double(quote.spread / instrument.pipSize))
        let spreadScale = spreadPips / liq.typicalSpreadPips
        let raw = liq.slippagePipsAtDepth * Glibc.pow(sizeRatio, configuration.slippageExponent) * spreadScale
        let capped = raw > liq.maxSlippagePips
        let pips = min(raw, liq.maxSlippagePips)
        // Pips → points: one pip is pipSize / point points (10 for EUR_USD, 1 for XAU_USD).
        let pointsPerPip = ExecutionMath.double(instrument.pipSize / ExecutionMath.point(precision: instrument.pricePrecision))
        let points = max(0, Int((pips * pointsPerPip).rounded(.toNearestOrAwayFromZero)))
        return SlippageEstimate(rawPips: raw, capped: capped, points: points,
                                price: Decimal(points) * ExecutionMath.point(precision: instrument.pricePrecision))
    }

    /// One pass of up to `quantity` lots on `side` against `quote`: fills level by level
    /// (`maxDepthLevels` at most, each `levelStepPoints` worse than the last), then adds the size
    /// slippage of the whole pass to every leg.
    ///
    /// With `limit`, only levels priced at or better than the limit fill (a buy at ≤ limit, a
    /// sell at ≥ limit); `chargesSlippage` false skips the size slippage (limit orders and
    /// take-profits are price-protected: they never fill beyond their price).
    public func sweep(instrument: Instrument, side: Side, quantity: Decimal, quote: Tick, limit: Decimal? = nil,
                      chargesSlippage: Bool = true) -> FillPlan {
        let touch = side == .buy ? quote.ask : quote.bid
        let depth = depthPerLevel(instrument: instrument, at: quote.time)
        guard quantity > 0, depth > 0, let liq = configuration.liquidity[instrument.symbol] else {
            return FillPlan(side: side, touch: touch, spread: quote.spread, depthPerLevel: depth, slippage: .none, legs: [],
                            unfilled: max(quantity, 0))
        }
        let step = Decimal(liq.levelStepPoints) * ExecutionMath.point(precision: instrument.pricePrecision)
        var levels: [(level: Int, quantity: Decimal, offset: Decimal)] = []
        var remaining = quantity
        for level in 0..<configuration.maxDepthLevels where remaining > 0 {
            let offset = Decimal(level) * step
            let levelPrice = side == .buy ? touch + offset : touch - offset
            if let limit, side == .buy ? levelPrice > limit : levelPrice < limit { break }
            let q = min(remaining, depth)
            levels.append((level, q, offset))
            remaining -= q
        }
        let passLots = quantity - remaining
        let slip = chargesSlippage ? slippage(instrument: instrument, lots: passLots, quote: quote) : .none
        let legs = levels.map { l in
            let adverse = l.offset + slip.price
            return FillPlan.Leg(level: l.level, quantity: l.quantity, price: side == .buy ? touch + adverse : touch - adverse,
                                slippage: adverse)
        }
        return FillPlan(side: side, touch: touch, spread: quote.spread, depthPerLevel: depth, slippage: slip, legs: legs,
                        unfilled: remaining)
    }

    // MARK: Costs

    /// Commission for `lots` on one side of `instrument`, in the account currency:
    /// lots × the class's rate per lot per side × `rateToAccount` (units of account currency per
    /// unit of the commission currency; 1 when they are the same), rounded half-to-even to
    /// `moneyScale`. Zero for a class without a schedule.
    public func commission(instrument: Instrument, lots: Decimal, rateToAccount: Decimal) -> Decimal {
        guard let rate = configuration.commission(for: instrument) else { return 0 }
        return ExecutionMath.round(ExecutionMath.abs(lots) * rate.perLotPerSide * rateToAccount, scale: configuration.moneyScale)
    }

    /// Margin for `lots` of `instrument` at `price`, in the account currency:
    /// lots × contract size × price × margin rate × `rateToAccount` (account currency per unit of
    /// the quote currency), rounded half-to-even to `moneyScale`.
    public func margin(instrument: Instrument, lots: Decimal, price: Decimal, rateToAccount: Decimal) -> Decimal {
        ExecutionMath.round(ExecutionMath.abs(lots) * instrument.contractSize * price * instrument.marginRate * rateToAccount,
                            scale: configuration.moneyScale)
    }
}
