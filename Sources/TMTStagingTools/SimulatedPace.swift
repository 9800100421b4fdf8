import TMTTrading

/// How fast a tool's simulated market runs: simulated seconds per real second at a given tick
/// rate, and the instrument profiles that produce it.
///
/// The generator's profiles tick every ~0.25 s of market time per instrument (six instruments,
/// ~23 ticks per market second in all); a tool sending `rate` ticks per real second therefore runs
/// the market at `rate / 23` × real time unless the profiles' tick intervals are stretched. The
/// Wyckoff detector works on one-minute bars and needs a 30-minute script to see a range, so at
/// the natural pace a run of tens of seconds never reaches a script's spring or upthrust and no
/// Wyckoff signal (hence no tick → fill figure) appears.
public struct SimulatedPace: Sendable {
    /// Fewest ticks per instrument per one-minute bar the pace may leave: each bar's open, high,
    /// low, close and volume still come from enough ticks for the detector to read the scripts
    /// (tested in `WyckoffScenarioTests`; at 10 one seed's upthrust was missed).
    public static let minTicksPerBar = 15.0

    /// Simulated seconds per real second.
    public let speed: Double
    /// Ticks per real second, all instruments together.
    public let rate: Double
    public let base: [InstrumentProfile]

    public init(speed: Double, rate: Double, base: [InstrumentProfile] = InstrumentProfile.defaults) {
        precondition(speed > 0 && rate > 0 && !base.isEmpty)
        self.speed = speed
        self.rate = rate
        self.base = base
    }

    /// The market's ticks per market second at the profiles' own intervals.
    static func ticksPerMarketSecond(_ base: [InstrumentProfile]) -> Double {
        base.reduce(0) { $0 + 1 / $1.meanTickInterval }
    }

    /// The pace at which `rate` ticks per second are the profiles' own tick frequency.
    public static func natural(rate: Double, base: [InstrumentProfile] = InstrumentProfile.defaults) -> Double {
        rate / ticksPerMarketSecond(base)
    }

    /// The fastest pace that still gives every instrument (the one ticking least often too)
    /// `minTicksPerBar` ticks per one-minute bar.
    public static func fastest(rate: Double, base: [InstrumentProfile] = InstrumentProfile.defaults) -> Double {
        let sparsest = base.map { 1 / $0.meanTickInterval }.min() ?? 1
        // Its ticks per real second: rate × sparsest / all; per bar: that × 60 / speed.
        return rate * sparsest / ticksPerMarketSecond(base) * 60 / minTicksPerBar
    }

    /// A pace that plays `scriptSeconds` of market within `seconds` of real time, at most
    /// `fastest` and never slower than `natural`.
    public static func fitting(scriptSeconds: Double, into seconds: Double, rate: Double,
                               base: [InstrumentProfile] = InstrumentProfile.defaults) -> SimulatedPace {
        let wanted = scriptSeconds / max(seconds, 1e-3)
        let speed = max(natural(rate: rate, base: base), min(wanted, fastest(rate: rate, base: base)))
        return SimulatedPace(speed: speed, rate: rate, base: base)
    }

    /// The profiles with their tick intervals stretched (or shrunk) by one common factor, so that
    /// `rate` ticks per real second advance the market by `speed` seconds per second. Volatility is
    /// per unit of market time, so prices move as they would at the natural pace, only sampled
    /// more sparsely.
    public var profiles: [InstrumentProfile] {
        let k = speed * Self.ticksPerMarketSecond(base) / rate
        return base.map { var p = $0; p.meanTickInterval *= k; return p }
    }

    /// Ticks per one-minute bar of an instrument at this pace.
    public func ticksPerBar(_ profile: InstrumentProfile) -> Double {
        guard let i = base.firstIndex(where: { $0.instrument.symbol == profile.instrument.symbol }) else { return 0 }
        return 60 / profiles[i].meanTickInterval
    }
}
