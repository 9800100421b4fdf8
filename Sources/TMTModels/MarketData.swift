import TMTBase

/// A quote update for one instrument.
public struct Tick: Codable, Sendable, Equatable {
    public var instrument: String
    public var bid: Decimal
    public var ask: Decimal
    /// Traded volume since the previous tick (simulated), in units of the instrument.
    public var volume: Decimal
    /// Exchange/simulation time, µs since the epoch.
    public var time: Int64

    public init(instrument: String, bid: Decimal, ask: Decimal, volume: Decimal, time: Int64) {
        self.instrument = instrument
        self.bid = bid
        self.ask = ask
        self.volume = volume
        self.time = time
    }

    /// (bid + ask) / 2, computed as a multiplication by 0.5: the same value and the same text
    /// (tested), at a sixth of the cost of `Decimal`'s long division (8 → 1.2 µs) — it runs for
    /// every tick in every tick consumer, and was most of Wyckoff's bar building.
    public var mid: Decimal { (bid + ask) * Tick.half }
    private static let half = Decimal(sign: .plus, exponent: -1, significand: 5)
    public var spread: Decimal { ask - bid }
}

/// An OHLCV bar built from ticks (mid prices).
public struct Bar: Codable, Sendable, Equatable {
    public var instrument: String
    /// Bar length in seconds (60 = M1).
    public var timeframeSeconds: Int
    /// Start of the bar, µs since the epoch, aligned to the timeframe.
    public var start: Int64
    public var open: Decimal
    public var high: Decimal
    public var low: Decimal
    public var close: Decimal
    public var volume: Decimal
    /// Ticks that made the bar.
    public var tickCount: Int

    public init(instrument: String, timeframeSeconds: Int, start: Int64, open: Decimal, high: Decimal, low: Decimal,
                close: Decimal, volume: Decimal, tickCount: Int) {
        self.instrument = instrument
        self.timeframeSeconds = timeframeSeconds
        self.start = start
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.tickCount = tickCount
    }

    /// Starts a bar at the tick's aligned time.
    public init(first tick: Tick, timeframeSeconds: Int) {
        let span = Int64(timeframeSeconds) * 1_000_000
        let start = tick.time - ((tick.time % span) + span) % span
        let mid = tick.mid
        self.init(instrument: tick.instrument, timeframeSeconds: timeframeSeconds, start: start, open: mid, high: mid,
                  low: mid, close: mid, volume: tick.volume, tickCount: 1)
    }

    /// Whether `tick` falls inside this bar's time span.
    public func contains(_ tick: Tick) -> Bool {
        tick.time >= start && tick.time < start + Int64(timeframeSeconds) * 1_000_000
    }

    /// Folds a tick of the same span into the bar.
    public mutating func apply(_ tick: Tick) {
        let mid = tick.mid
        if mid > high { high = mid }
        if mid < low { low = mid }
        close = mid
        volume += tick.volume
        tickCount += 1
    }

    /// High minus low.
    public var range: Decimal { high - low }
}
