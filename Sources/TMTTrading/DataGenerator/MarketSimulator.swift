import TMTBase
import TMTModels

/// Seeded, deterministic ticks for several instruments: stochastic volatility, session activity,
/// spreads that widen in thin hours and around news, a weekend gap, and scripted Wyckoff
/// scenarios. Time is simulated (µs since the epoch) and advances with each tick; the caller
/// decides how fast to emit them in real time.
public struct MarketSimulator: Sendable {
    /// Settings of a simulation run.
    public struct Configuration: Sendable {
        public var seed: UInt64
        /// Simulated start, µs since the epoch.
        public var startMicros: Int64
        public var profiles: [InstrumentProfile]
        public var scenarios: [WyckoffScenario]
        public var news: NewsCalendar
        /// Spread multiplier at the peak of a high-impact release.
        public var newsSpreadFactor: Double
        /// Volatility multiplier at the peak of a high-impact release.
        public var newsVolatilityFactor: Double
        /// Standard deviation of the weekend gap as a fraction of price.
        public var weekendGapSigma: Double

        public init(seed: UInt64, startMicros: Int64, profiles: [InstrumentProfile] = InstrumentProfile.defaults,
                    scenarios: [WyckoffScenario] = [], news: NewsCalendar? = nil, newsSpreadFactor: Double = 5,
                    newsVolatilityFactor: Double = 4, weekendGapSigma: Double = 0.004) {
            self.seed = seed
            self.startMicros = startMicros
            self.profiles = profiles
            self.scenarios = scenarios
            self.news = news ?? NewsCalendar.generate(seed: seed, startMicros: startMicros, days: 14)
            self.newsSpreadFactor = newsSpreadFactor
            self.newsVolatilityFactor = newsVolatilityFactor
            self.weekendGapSigma = weekendGapSigma
        }
    }

    struct InstrumentState: Sendable {
        var profile: InstrumentProfile
        var rng: SeededRandom
        var logPrice: Double
        /// Variance multiplier (mean 1) of the stochastic-volatility process.
        var variance: Double
        var nextTime: Int64
        var lastTime: Int64
        var scenario: WyckoffScenario?
        var scenarioStart: Int64
        var scenarioCentre: Double
        /// Whether `scenarioCentre` is set: at once without a start offset, else where the
        /// price is when the script begins.
        var scenarioAnchored: Bool
        var currencies: [String]
    }

    public let configuration: Configuration
    private var states: [InstrumentState]
    /// Ticks emitted so far.
    public private(set) var count = 0

    private static let secondsPerYear = 365.0 * 86_400

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        states = configuration.profiles.map { profile in
            var rng = SeededRandom.derived(seed: configuration.seed, stream: profile.instrument.symbol)
            let first = configuration.startMicros + Int64(rng.exponential(mean: profile.meanTickInterval) * 1e6)
            let scenario = configuration.scenarios.first { $0.symbol == profile.instrument.symbol }
            let logPrice = log(profile.startPrice)
            return InstrumentState(profile: profile, rng: rng, logPrice: logPrice, variance: 1, nextTime: first,
                                   lastTime: configuration.startMicros, scenario: scenario,
                                   scenarioStart: configuration.startMicros + Int64((scenario?.startOffset ?? 0) * 1e6),
                                   scenarioCentre: logPrice, scenarioAnchored: (scenario?.startOffset ?? 0) <= 0,
                                   currencies: [profile.instrument.base, profile.instrument.quoteCurrency])
        }
    }

    /// The scripted phase an instrument is in at `micros`, if a scenario covers it.
    public func scenarioPhase(symbol: String, atMicros micros: Int64) -> WyckoffScenario.Phase? {
        guard let s = states.first(where: { $0.profile.instrument.symbol == symbol }), let scenario = s.scenario else { return nil }
        return scenario.target(elapsed: Double(micros - s.scenarioStart) / 1e6)?.phase
    }

    /// The next tick of whichever instrument ticks first.
    public mutating func next() -> Tick {
        var i = 0
        for j in 1..<states.count where states[j].nextTime < states[i].nextTime { i = j }
        count += 1
        return step(&states[i])
    }

    private func step(_ s: inout InstrumentState) -> Tick {
        var now = s.nextTime
        let symbol = s.profile.instrument.symbol
        let isFX = symbol != "US30"
        // The weekend: FX and metals close Friday 21:00 UTC and reopen Sunday 21:00 UTC with a gap.
        if isFX || symbol == "US30", TradingSession.isWeekendClosed(atMicros: now) {
            let reopen = TradingSession.reopening(afterMicros: now)
            now = reopen + Int64(s.rng.exponential(mean: s.profile.meanTickInterval) * 1e6)
            let gap = configuration.weekendGapSigma * s.rng.normal()
            s.logPrice += gap
            s.scenarioCentre += gap
            s.scenarioStart += reopen - s.lastTime
        }
        let dt = max(Double(now - s.lastTime) / 1e6, 1e-4)
        let activity = TradingSession.activity(atMicros: now, symbol: symbol)
        let news = configuration.news.intensity(atMicros: now, currencies: s.currencies)

        // Stochastic volatility (mean-reverting variance multiplier, Heston-like).
        let kappa = 1.0 / 1800, xi = 0.03
        s.variance += kappa * (1 - s.variance) * dt + xi * s.variance.squareRoot() * dt.squareRoot() * s.rng.normal()
        s.variance = min(max(s.variance, 0.05), 6)

        let volFactor = s.variance.squareRoot() * activity.squareRoot() * (1 + (configuration.newsVolatilityFactor - 1) * news)
        let sigma = s.profile.annualVolatility * volFactor * (dt / Self.secondsPerYear).squareRoot()
        var volumeFactor = activity * (1 + 2 * news)

        if s.scenario != nil, !s.scenarioAnchored, now >= s.scenarioStart {
            s.scenarioCentre = s.logPrice
            s.scenarioAnchored = true
        }
        if let scenario = s.scenario, let target = scenario.target(elapsed: Double(now - s.scenarioStart) / 1e6) {
            // Follow the script: pull toward the target path (time constant ~8 s) with the
            // phase's volume signature; noise stays so the path is not a clean line.
            let goal = s.scenarioCentre + target.offset
            let pull = min(dt / 8, 1)
            s.logPrice += (goal - s.logPrice) * pull + sigma * 0.5 * s.rng.normal()
            volumeFactor *= target.volume
        } else {
            if let scenario = s.scenario, Double(now - s.scenarioStart) / 1e6 > scenario.duration {
                s.scenario = nil // the script is over; the instrument walks freely from here
            }
            s.logPrice += sigma * s.rng.normal() - 0.5 * sigma * sigma
        }

        let instrument = s.profile.instrument
        let pip = DecimalMath.double(instrument.pipSize)
        let spreadPips = s.profile.baseSpreadPips / max(activity, 0.3).squareRoot()
            * (1 + (configuration.newsSpreadFactor - 1) * news) * (1 + 0.15 * abs(s.rng.normal()))
        let point = pow(10, -Double(instrument.pricePrecision))
        let spread = max(spreadPips * pip, point)
        let mid = exp(s.logPrice)
        let bidUnits = ((mid - spread / 2) / point).rounded(.down)
        let spreadUnits = max((spread / point).rounded(), 1)
        let volume = max(s.profile.baseVolume * volumeFactor * exp(0.5 * s.rng.normal() - 0.125), 0)
        let volumeUnits = (volume / DecimalMath.double(instrument.lotStep * instrument.contractSize)).rounded()

        s.lastTime = now
        s.nextTime = now + Int64(max(s.rng.exponential(mean: s.profile.meanTickInterval / max(activity, 0.2)), 0.001) * 1e6)
        return Tick(instrument: symbol,
                    bid: Self.decimal(units: Int64(bidUnits), precision: instrument.pricePrecision),
                    ask: Self.decimal(units: Int64(bidUnits + spreadUnits), precision: instrument.pricePrecision),
                    volume: Decimal(Int64(volumeUnits)) * instrument.lotStep * instrument.contractSize,
                    time: now)
    }

    /// `units × 10^-precision`, exactly.
    static func decimal(units: Int64, precision: Int) -> Decimal {
        Decimal(sign: units < 0 ? .minus : .plus, exponent: -precision, significand: Decimal(units.magnitude))
    }
}
