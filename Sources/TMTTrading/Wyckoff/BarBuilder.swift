import TMTBase
import TMTModels

/// Folds ticks into OHLCV bars of one timeframe (mid prices), one open bar per instrument.
///
/// A bar closes when a tick of a later bar arrives for its instrument, or when `flush(upTo:)` is
/// told that its time has passed (quiet markets). Gaps produce no filler bars: after a weekend the
/// next bar simply starts at the first tick's aligned time. Ticks older than the instrument's open
/// bar (or older than the end of the last bar it emitted) are ignored and counted as late, because
/// a bar that has been handed on must never change afterwards.
public struct BarBuilder: Sendable {
    /// Bar length in seconds (60 = M1).
    public let timeframeSeconds: Int

    private struct InstrumentState: Sendable {
        var current: Bar?
        /// End (µs) of the last bar handed out; ticks before it are late.
        var closedUpTo: Int64 = .min
        /// Time (µs) of the last tick folded into `current`.
        var lastTick: Int64 = .min
        /// Ticks at or before this time (µs) are in a resumed bar already: redelivered, late.
        var resumedThrough: Int64 = .min
        var late = 0
    }

    /// A bar still being built, with the time of the last tick folded into it.
    public struct OpenBar: Sendable, Equatable {
        public var bar: Bar
        /// µs since the epoch.
        public var lastTickMicros: Int64

        public init(bar: Bar, lastTickMicros: Int64) {
            self.bar = bar
            self.lastTickMicros = lastTickMicros
        }
    }

    private var states: [String: InstrumentState] = [:]
    /// Ticks ignored because their bar had already started or closed, over all instruments.
    public private(set) var lateTicks = 0
    /// Ticks ignored because their quote was unusable (bid ≤ 0 or ask < bid).
    public private(set) var invalidTicks = 0

    /// A builder for `timeframeSeconds`-long bars; throws `invalidArgument` unless 1…86,400.
    public init(timeframeSeconds: Int) throws {
        guard (1...86_400).contains(timeframeSeconds) else {
            throw TMTError(.invalidArgument, "bar timeframeSeconds must be 1...86400, got \(timeframeSeconds)")
        }
        self.timeframeSeconds = timeframeSeconds
    }

    private var spanMicros: Int64 { Int64(timeframeSeconds) * 1_000_000 }

    /// Adds a tick; returns the bars it closed (at most the one open bar of its instrument).
    public mutating func apply(_ tick: Tick) -> [Bar] {
        guard tick.bid > 0, tick.ask >= tick.bid else {
            invalidTicks += 1
            return []
        }
        var state = states[tick.instrument] ?? InstrumentState()
        defer { states[tick.instrument] = state }
        guard tick.time >= state.closedUpTo, tick.time > state.resumedThrough else {
            state.late += 1
            lateTicks += 1
            return []
        }
        guard var bar = state.current else {
            state.current = Bar(first: tick, timeframeSeconds: timeframeSeconds)
            state.lastTick = tick.time
            return []
        }
        if bar.contains(tick) {
            bar.apply(tick)
            state.current = bar
            state.lastTick = max(state.lastTick, tick.time)
            return []
        }
        if tick.time < bar.start {
            state.late += 1
            lateTicks += 1
            return []
        }
        state.closedUpTo = bar.start + spanMicros
        state.current = Bar(first: tick, timeframeSeconds: timeframeSeconds)
        state.lastTick = tick.time
        return [bar]
    }

    /// Closes every open bar whose end is at or before `micros` (µs since the epoch): the time up
    /// to which the caller expects no more ticks, e.g. the clock minus an allowance for transport
    /// delay. Returned in instrument order so that a replay gives the same sequence.
    public mutating func flush(upTo micros: Int64) -> [Bar] {
        var closed: [Bar] = []
        for symbol in states.keys.sorted() {
            guard var state = states[symbol], let bar = state.current, bar.start + spanMicros <= micros else { continue }
            state.closedUpTo = bar.start + spanMicros
            state.current = nil
            states[symbol] = state
            closed.append(bar)
        }
        return closed
    }

    /// Records that `instrument`'s bars up to `micros` (µs, the end of the newest stored one)
    /// were handed on by an earlier process: its ticks before then are late, as if this builder
    /// had closed those bars. A process that crashed leaves the ticks since its last offset
    /// commit to be redelivered; folded again they would make a bar of the few after the commit
    /// and store it over the whole one.
    public mutating func handedOn(instrument: String, upTo micros: Int64) {
        var state = states[instrument] ?? InstrumentState()
        guard state.current == nil else { return }
        state.closedUpTo = max(state.closedUpTo, micros)
        states[instrument] = state
    }

    /// Every bar still being built, in instrument order, with its last tick's time: what a
    /// stopping process saves.
    public var openBars: [OpenBar] {
        states.keys.sorted().compactMap { symbol in
            states[symbol].flatMap { state in state.current.map { OpenBar(bar: $0, lastTickMicros: state.lastTick) } }
        }
    }

    /// Removes `instruments` (their partitions moved to another process) and returns their open
    /// bars: their ticks are another process's now, and if they come back here their stored
    /// history is read afresh.
    public mutating func take(instruments: Set<String>) -> [OpenBar] {
        var taken: [OpenBar] = []
        for symbol in instruments.sorted() {
            guard let state = states.removeValue(forKey: symbol) else { continue }
            if let bar = state.current { taken.append(OpenBar(bar: bar, lastTickMicros: state.lastTick)) }
        }
        return taken
    }

    /// Takes `open` (saved by a process that stopped) as its instrument's open bar, so the ticks
    /// still to come for its span are folded into it and the next span's first tick closes it.
    /// Ticks at or before its last tick are in it already (redelivered: an offset commit that
    /// failed at the stop, or a tick abandoned mid-way) and are late. Refused (false) when its
    /// timeframe differs, or when the instrument has an open bar or has handed out a bar ending
    /// after it starts in this builder already.
    public mutating func resume(_ open: OpenBar) -> Bool {
        let bar = open.bar
        guard bar.timeframeSeconds == timeframeSeconds, bar.tickCount > 0 else { return false }
        var state = states[bar.instrument] ?? InstrumentState()
        guard state.current == nil, state.closedUpTo <= bar.start else { return false }
        state.current = bar
        state.lastTick = open.lastTickMicros
        state.resumedThrough = open.lastTickMicros
        states[bar.instrument] = state
        return true
    }

    /// The bar still being built for an instrument, if any.
    public func openBar(instrument: String) -> Bar? {
        states[instrument]?.current
    }

    /// Late ticks ignored for one instrument.
    public func lateTicks(instrument: String) -> Int {
        states[instrument]?.late ?? 0
    }
}
