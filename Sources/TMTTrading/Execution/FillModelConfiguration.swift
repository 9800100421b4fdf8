import TMTBase
import TMTModels

/// Everything the paper fill model assumes about the market, with staging defaults. Build it in
/// code or from YAML (`init(node:)`), then `validate()` once at start-up (`FillModel.init` does).
///
/// Continuous improvement re-runs the same model on shadow parameters, so every knob lives here
/// and nowhere else.
public struct FillModelConfiguration: Sendable, Equatable {
    /// The delay between the engine receiving an order and the order reaching the simulated
    /// market, drawn per order from a lognormal distribution seeded by the order id (the same
    /// order always gets the same latency).
    public struct Latency: Sendable, Equatable {
        /// Median latency in milliseconds; default 40. Must be > 0.
        public var medianMilliseconds: Double
        /// 99th-percentile latency in milliseconds; default 150. Must be ≥ the median (equal
        /// gives a constant latency).
        public var p99Milliseconds: Double
        /// Hard cap in milliseconds, since lognormal tails are unbounded; default 1,000. Must be
        /// ≥ the p99.
        public var maxMilliseconds: Double
        /// Mixed with each order id to seed its draw; default 0x7E47. Change it to get a
        /// different (but still reproducible) set of latencies.
        public var seed: UInt64

        public init(medianMilliseconds: Double = 40, p99Milliseconds: Double = 150, maxMilliseconds: Double = 1_000,
                    seed: UInt64 = 0x7E47) {
            self.medianMilliseconds = medianMilliseconds
            self.p99Milliseconds = p99Milliseconds
            self.maxMilliseconds = maxMilliseconds
            self.seed = seed
        }
    }

    /// Order latency; default `Latency()` (median 40 ms, p99 150 ms, cap 1 s).
    public var latency: Latency
    /// α in slippage = k × (lots / depth)^α × (spread / typical spread); default 0.5, the
    /// square-root law of market impact. Must be in (0, 3].
    public var slippageExponent: Double
    /// How many depth levels one pass may walk before the rest waits for the next tick;
    /// default 5. Must be 1…50.
    public var maxDepthLevels: Int
    /// Scale each level's depth by `TradingSession.activity` (thin in the Asian session, deep in
    /// the London/New York overlap); default true.
    public var scalesDepthBySession: Bool
    /// Market facts per instrument symbol (contract size, pip, margin rate); default
    /// `Instrument.catalog`. Orders for a symbol not here are cancelled as unknown.
    public var instruments: [String: Instrument]
    /// Book depth and slippage per instrument symbol; every symbol in `instruments` needs one.
    public var liquidity: [String: InstrumentLiquidity]
    /// Commission per instrument class; every class in use needs one. Default 3.5 USD per lot
    /// per side for FX and metals, 0.5 USD for indices.
    public var commissions: [InstrumentClass: CommissionRate]
    /// After an order's arrival time, how long to wait for a newer tick before filling against
    /// the latest quote, in milliseconds; default 500. Must be ≥ 0.
    public var quoteWaitMilliseconds: Double
    /// A latest quote older than this at the order's arrival is stale (market closed, feed
    /// stalled): the order waits for a fresh tick instead. Seconds; default 60. Must be > 0.
    public var maxQuoteAgeSeconds: Double
    /// Market orders work (partial fills continue on later ticks) until this long after their
    /// arrival, then the rest is cancelled. Seconds; default 60. Must be > 0.
    public var marketOrderTimeToLiveSeconds: Double
    /// Limit and stop orders expire this long after their arrival; nil = good till cancelled.
    /// Seconds; default 86,400 (one day). Must be > 0 when set.
    public var pendingOrderTimeToLiveSeconds: Double?
    /// Decimal places every account-currency amount is booked with (realised P&L per fill,
    /// commission per fill, open P&L and margin per position), rounded half-to-even; default 4
    /// (hundredths of a cent). Four places keep a commission of lots (0.01 steps) × a rate
    /// with two decimals exact (1.37 lots × 3.5 = 4.795), and converted P&L loses less than
    /// 0.00005 per fill. The balance is the exact sum of the booked amounts. Must be 0…8.
    public var moneyScale: Int
    /// Decimal places a position's volume-weighted average price is kept to, rounded
    /// half-to-even; default 10. Must be ≥ every instrument's price precision and ≤ 20.
    public var averagePriceScale: Int

    public init(latency: Latency = Latency(), slippageExponent: Double = 0.5, maxDepthLevels: Int = 5,
                scalesDepthBySession: Bool = true, instruments: [String: Instrument] = Instrument.catalog,
                liquidity: [String: InstrumentLiquidity] = FillModelConfiguration.defaultLiquidity,
                commissions: [InstrumentClass: CommissionRate] = FillModelConfiguration.defaultCommissions,
                quoteWaitMilliseconds: Double = 500, maxQuoteAgeSeconds: Double = 60,
                marketOrderTimeToLiveSeconds: Double = 60, pendingOrderTimeToLiveSeconds: Double? = 86_400,
                moneyScale: Int = 4, averagePriceScale: Int = 10) {
        self.latency = latency
        self.slippageExponent = slippageExponent
        self.maxDepthLevels = maxDepthLevels
        self.scalesDepthBySession = scalesDepthBySession
        self.instruments = instruments
        self.liquidity = liquidity
        self.commissions = commissions
        self.quoteWaitMilliseconds = quoteWaitMilliseconds
        self.maxQuoteAgeSeconds = maxQuoteAgeSeconds
        self.marketOrderTimeToLiveSeconds = marketOrderTimeToLiveSeconds
        self.pendingOrderTimeToLiveSeconds = pendingOrderTimeToLiveSeconds
        self.moneyScale = moneyScale
        self.averagePriceScale = averagePriceScale
    }

    /// The staging defaults.
    public static let staging = FillModelConfiguration()

    /// Staging book depth and slippage. Touch depths are a few million of base currency for the
    /// majors (deep enough that typical ARIA sizes fill in one pass, shallow enough that large
    /// orders walk the book); slippage k is about a third of the typical spread, capped at
    /// roughly four spreads.
    public static let defaultLiquidity: [String: InstrumentLiquidity] = [
        "EUR_USD": InstrumentLiquidity(touchDepthLots: 20, levelStepPoints: 2, typicalSpreadPips: 0.8,
                                       slippagePipsAtDepth: 0.3, maxSlippagePips: 3),
        "GBP_USD": InstrumentLiquidity(touchDepthLots: 12, levelStepPoints: 2, typicalSpreadPips: 1.2,
                                       slippagePipsAtDepth: 0.4, maxSlippagePips: 4),
        "USD_JPY": InstrumentLiquidity(touchDepthLots: 15, levelStepPoints: 2, typicalSpreadPips: 0.9,
                                       slippagePipsAtDepth: 0.3, maxSlippagePips: 3),
        "AUD_USD": InstrumentLiquidity(touchDepthLots: 8, levelStepPoints: 2, typicalSpreadPips: 1.0,
                                       slippagePipsAtDepth: 0.4, maxSlippagePips: 4),
        "XAU_USD": InstrumentLiquidity(touchDepthLots: 5, levelStepPoints: 5, typicalSpreadPips: 25,
                                       slippagePipsAtDepth: 10, maxSlippagePips: 100),
        "US30": InstrumentLiquidity(touchDepthLots: 20, levelStepPoints: 5, typicalSpreadPips: 2,
                                    slippagePipsAtDepth: 1, maxSlippagePips: 10),
    ]

    /// Staging commissions: 3.5 USD per lot per side for FX and metals, 0.5 USD per contract per
    /// side for index CFDs.
    public static let defaultCommissions: [InstrumentClass: CommissionRate] = [
        .fx: CommissionRate(perLotPerSide: Decimal(string: "3.5")!),
        .metal: CommissionRate(perLotPerSide: Decimal(string: "3.5")!),
        .index: CommissionRate(perLotPerSide: Decimal(string: "0.5")!),
    ]

    /// The commission schedule for `instrument`'s class.
    public func commission(for instrument: Instrument) -> CommissionRate? {
        commissions[InstrumentClass(instrument: instrument)]
    }

    /// Checks every field; the error names the field and the offending value.
    public func validate() throws(TMTError) {
        func fail(_ field: String, _ problem: String) -> TMTError {
            TMTError(.configuration, "fill model: \(field) \(problem)")
        }
        func finite(_ v: Double) -> Bool { v.isFinite }
        let l = latency
        guard finite(l.medianMilliseconds), l.medianMilliseconds > 0 else {
            throw fail("latency.median_ms", "must be > 0, got \(l.medianMilliseconds)")
        }
        guard finite(l.p99Milliseconds), l.p99Milliseconds >= l.medianMilliseconds else {
            throw fail("latency.p99_ms", "must be ≥ the median (\(l.medianMilliseconds)), got \(l.p99Milliseconds)")
        }
        guard finite(l.maxMilliseconds), l.maxMilliseconds >= l.p99Milliseconds else {
            throw fail("latency.max_ms", "must be ≥ the p99 (\(l.p99Milliseconds)), got \(l.maxMilliseconds)")
        }
        guard finite(slippageExponent), slippageExponent > 0, slippageExponent <= 3 else {
            throw fail("slippage_exponent", "must be in (0, 3], got \(slippageExponent)")
        }
        guard (1...50).contains(maxDepthLevels) else {
            throw fail("max_depth_levels", "must be 1…50, got \(maxDepthLevels)")
        }
        guard finite(quoteWaitMilliseconds), quoteWaitMilliseconds >= 0 else {
            throw fail("quote_wait_ms", "must be ≥ 0, got \(quoteWaitMilliseconds)")
        }
        guard finite(maxQuoteAgeSeconds), maxQuoteAgeSeconds > 0 else {
            throw fail("max_quote_age_s", "must be > 0, got \(maxQuoteAgeSeconds)")
        }
        guard finite(marketOrderTimeToLiveSeconds), marketOrderTimeToLiveSeconds > 0 else {
            throw fail("market_order_ttl_s", "must be > 0, got \(marketOrderTimeToLiveSeconds)")
        }
        if let ttl = pendingOrderTimeToLiveSeconds {
            guard finite(ttl), ttl > 0 else { throw fail("pending_order_ttl_s", "must be > 0 when set, got \(ttl)") }
        }
        guard (0...8).contains(moneyScale) else { throw fail("money_scale", "must be 0…8, got \(moneyScale)") }
        guard averagePriceScale <= 20 else { throw fail("average_price_scale", "must be ≤ 20, got \(averagePriceScale)") }
        if instruments.isEmpty { throw fail("instruments", "must name at least one instrument") }
        for (symbol, instrument) in instruments.sorted(by: { $0.key < $1.key }) {
            guard instrument.symbol == symbol else {
                throw fail("instruments.\(symbol)", "is keyed differently from its symbol '\(instrument.symbol)'")
            }
            guard instrument.contractSize > 0, instrument.pipSize > 0, instrument.lotStep > 0, instrument.marginRate >= 0,
                  instrument.pricePrecision >= 0 else {
                throw fail("instruments.\(symbol)", "needs a positive contract size, pip size and lot step")
            }
            guard averagePriceScale >= instrument.pricePrecision else {
                throw fail("average_price_scale", "must be ≥ \(symbol)'s price precision \(instrument.pricePrecision), got \(averagePriceScale)")
            }
            guard let liq = liquidity[symbol] else {
                throw fail("liquidity.\(symbol)", "is missing (every instrument needs book depth and slippage)")
            }
            let key = "liquidity.\(symbol)"
            guard liq.touchDepthLots > 0 else { throw fail("\(key).touch_depth_lots", "must be > 0, got \(liq.touchDepthLots)") }
            guard liq.levelStepPoints >= 1 else { throw fail("\(key).level_step_points", "must be ≥ 1, got \(liq.levelStepPoints)") }
            guard finite(liq.typicalSpreadPips), liq.typicalSpreadPips > 0 else {
                throw fail("\(key).typical_spread_pips", "must be > 0, got \(liq.typicalSpreadPips)")
            }
            guard finite(liq.slippagePipsAtDepth), liq.slippagePipsAtDepth >= 0 else {
                throw fail("\(key).slippage_pips_at_depth", "must be ≥ 0, got \(liq.slippagePipsAtDepth)")
            }
            guard finite(liq.maxSlippagePips), liq.maxSlippagePips >= 0 else {
                throw fail("\(key).max_slippage_pips", "must be ≥ 0, got \(liq.maxSlippagePips)")
            }
            let cls = InstrumentClass(instrument: instrument)
            guard let rate = commissions[cls] else {
                throw fail("commissions.\(cls.rawValue)", "is missing (needed by \(symbol))")
            }
            guard rate.perLotPerSide >= 0 else {
                throw fail("commissions.\(cls.rawValue).per_lot_per_side", "must be ≥ 0, got \(rate.perLotPerSide)")
            }
            guard rate.currency.count == 3, rate.currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw fail("commissions.\(cls.rawValue).currency", "must be a three-letter code like USD, got '\(rate.currency)'")
            }
        }
    }
}
