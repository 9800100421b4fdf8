import TMTBase
import TMTModels

/// What the detector concluded for one closed bar, for the agent to log, expose and publish.
public struct WyckoffAnalysis: Codable, Sendable, Equatable {
    /// The bar analysed.
    public var bar: Bar
    /// The trading range from the bars before `bar`, if a valid one exists.
    public var range: TradingRange?
    /// Wilder ATR including `bar`, in price units; nil until `atrPeriod` bars have been seen.
    public var atr: Double?
    /// Phase scores after `bar`.
    public var scores: WyckoffPhaseScores
    /// Events completed by `bar`.
    public var events: [WyckoffEvent]
    /// The signal to publish, if an event qualified.
    public var signal: Signal?
    /// Why the bar was ignored or why an event did not become a signal (confidence, reward/risk,
    /// cooldown), in plain words for the log.
    public var remarks: [String]

    /// An analysis as the detector builds it.
    public init(bar: Bar, range: TradingRange?, atr: Double?, scores: WyckoffPhaseScores, events: [WyckoffEvent],
                signal: Signal?, remarks: [String]) {
        self.bar = bar
        self.range = range
        self.atr = atr
        self.scores = scores
        self.events = events
        self.signal = signal
        self.remarks = remarks
    }
}
