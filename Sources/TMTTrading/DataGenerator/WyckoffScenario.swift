import TMTBase

/// A scripted market structure for one instrument, so the Wyckoff detector has something real to
/// find: the price follows a target path around a trading range with the volume signature of
/// each phase, plus the simulator's ordinary noise.
public struct WyckoffScenario: Sendable, Equatable {
    /// Phases of a scripted path.
    public enum Phase: String, Sendable, Codable, CaseIterable {
        /// Sideways in the range, volume drying up.
        case accumulation
        /// A shake-out below support on rising volume, then a quick return into the range.
        case spring
        /// Trend up out of the range, volume expanding on the advance.
        case markup
        /// Sideways at the top, volume heavy but going nowhere.
        case distribution
        /// A poke above resistance that fails back into the range.
        case upthrust
        /// Trend down out of the range.
        case markdown
    }

    /// One stretch of the script.
    public struct Segment: Sendable, Equatable {
        public var phase: Phase
        public var seconds: Double
        public init(_ phase: Phase, seconds: Double) {
            self.phase = phase
            self.seconds = seconds
        }
    }

    public var symbol: String
    public var segments: [Segment]
    /// Half the range's height as a fraction of price (0.003 = ±0.3 %).
    public var rangeHalfWidth: Double
    /// Seconds of simulated time after the simulation start before the script begins; the
    /// instrument walks freely until then, and the range is centred where the price is at that
    /// moment. Default 0 (the script starts with the simulation).
    public var startOffset: Double

    public init(symbol: String, segments: [Segment], rangeHalfWidth: Double = 0.003, startOffset: Double = 0) {
        self.symbol = symbol
        self.segments = segments
        self.rangeHalfWidth = rangeHalfWidth
        self.startOffset = startOffset
    }

    /// Accumulation → spring → test → markup: the classic long setup.
    public static func accumulation(symbol: String, minutes: Double = 20, startOffset: Double = 0) -> WyckoffScenario {
        WyckoffScenario(symbol: symbol, segments: [
            Segment(.accumulation, seconds: minutes * 60), Segment(.spring, seconds: minutes * 10),
            Segment(.accumulation, seconds: minutes * 15), Segment(.markup, seconds: minutes * 60),
        ], startOffset: startOffset)
    }

    /// Distribution → upthrust → test → markdown: the classic short setup.
    public static func distribution(symbol: String, minutes: Double = 20, startOffset: Double = 0) -> WyckoffScenario {
        WyckoffScenario(symbol: symbol, segments: [
            Segment(.distribution, seconds: minutes * 60), Segment(.upthrust, seconds: minutes * 10),
            Segment(.distribution, seconds: minutes * 15), Segment(.markdown, seconds: minutes * 60),
        ], startOffset: startOffset)
    }

    /// Total length in seconds.
    public var duration: Double { segments.reduce(0) { $0 + $1.seconds } }

    /// Where the script wants the price at `elapsed` seconds, as log-distance from the range
    /// centre, plus the phase and a volume factor; nil after the script ends.
    public func target(elapsed: Double) -> (offset: Double, phase: Phase, volume: Double, progress: Double)? {
        guard elapsed >= 0 else { return nil }
        var t = elapsed
        var level = 0.0 // where the previous segment left the target
        let hw = rangeHalfWidth
        for segment in segments {
            let p = segment.seconds > 0 ? min(t / segment.seconds, 1) : 1
            let end: Double
            let offset: Double
            let volume: Double
            switch segment.phase {
            case .accumulation, .distribution:
                // Oscillate between support and resistance while drifting back to the level.
                end = level * 0.5
                offset = level + (end - level) * p + 0.8 * hw * sin(p * 3 * 2 * .pi)
                volume = segment.phase == .accumulation ? 1.0 - 0.45 * p : 1.3
            case .spring:
                // Down through support (to −1.35 hw) in the first 40 %, then back above the middle.
                end = 0.15 * hw
                offset = p < 0.4 ? level + (-1.35 * hw - level) * (p / 0.4) : -1.35 * hw + (end + 1.35 * hw) * ((p - 0.4) / 0.6)
                volume = p < 0.4 ? 1.6 : 2.2
            case .upthrust:
                end = -0.15 * hw
                offset = p < 0.4 ? level + (1.35 * hw - level) * (p / 0.4) : 1.35 * hw + (end - 1.35 * hw) * ((p - 0.4) / 0.6)
                volume = p < 0.4 ? 1.6 : 2.0
            case .markup:
                end = level + 4 * hw
                offset = level + (end - level) * p
                volume = 1.5
            case .markdown:
                end = level - 4 * hw
                offset = level + (end - level) * p
                volume = 1.5
            }
            if t <= segment.seconds { return (offset, segment.phase, volume, p) }
            t -= segment.seconds
            level = end
        }
        return nil
    }
}
