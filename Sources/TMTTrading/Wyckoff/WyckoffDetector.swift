import TMTBase
import TMTModels

/// The Wyckoff analysis core: per instrument it keeps the recent bars and, for each closed bar,
/// finds the trading range of the bars before it, the events the bar completes (spring,
/// upthrust, SOS, SOW, LPS, LPSY), the phase scores, and possibly a signal with entry, stop,
/// target, confidence and the evidence behind them. Pure: bars in, analyses out; the same bars
/// give the same signals (ids included), so a replay is idempotent.
public struct WyckoffDetector: Sendable {
    private struct InstrumentState: Sendable {
        var series: WyckoffSeries
        var anchors: [WyckoffAnchor] = []
        /// Absolute index and event of the latest event of each kind.
        var latest: [WyckoffEvent.Kind: (index: Int, event: WyckoffEvent)] = [:]
        var lastSignalIndex: Int?
    }

    /// The parameters in force; change them with `update(parameters:)`.
    public private(set) var parameters: WyckoffParameters
    private let instruments: [String: Instrument]
    private var states: [String: InstrumentState] = [:]

    /// A detector with validated `parameters`; `instruments` supply the price precision that
    /// stops and targets are rounded to (5 places for an unknown symbol).
    public init(parameters: WyckoffParameters = WyckoffParameters(), instruments: [String: Instrument] = Instrument.catalog) throws {
        try parameters.validate()
        self.parameters = parameters
        self.instruments = instruments
    }

    /// Replaces the parameters (validated first; on error nothing changes). Bar history, pending
    /// LPS anchors and cooldowns are kept; the ATR is recomputed from the kept bars if its period
    /// changed.
    public mutating func update(parameters new: WyckoffParameters) throws {
        try new.validate()
        parameters = new
        for key in states.keys {
            states[key]!.series.setATRPeriod(new.atrPeriod)
        }
    }

    /// Bars currently held for an instrument.
    public func barCount(instrument: String) -> Int {
        states[instrument]?.series.count ?? 0
    }

    /// Analyses one closed bar of its instrument. A bar that is not newer than the previous bar of
    /// that instrument is ignored (redelivery); a bar of another timeframe restarts the
    /// instrument's history, since ATRs and ranges of mixed bar lengths mean nothing.
    public mutating func process(_ bar: Bar) -> WyckoffAnalysis {
        // Taken out of the dictionary while it changes, so its arrays are not copied on append.
        var state = states.removeValue(forKey: bar.instrument) ?? InstrumentState(series: WyckoffSeries(atrPeriod: parameters.atrPeriod))
        defer { states[bar.instrument] = state }
        var remarks: [String] = []
        if let last = state.series.last {
            if last.timeframeSeconds != bar.timeframeSeconds {
                remarks.append("timeframe changed from \(last.timeframeSeconds)s to \(bar.timeframeSeconds)s: history restarted")
                state = InstrumentState(series: WyckoffSeries(atrPeriod: parameters.atrPeriod))
            } else if bar.start <= last.start {
                return WyckoffAnalysis(bar: bar, range: nil, atr: nil, scores: .none, events: [], signal: nil,
                                       remarks: ["bar ignored: it does not start after the previous bar (\(last.start))"])
            }
        }
        state.series.append(bar)
        let analysis = analyse(&state, bar: bar, remarks: remarks)
        state.series.trim(keep: parameters.historyBars)
        return analysis
    }

    private func analyse(_ state: inout InstrumentState, bar: Bar, remarks: [String]) -> WyckoffAnalysis {
        var remarks = remarks
        let p = parameters
        let series = state.series
        let i = series.count - 1
        let absolute = series.absolute(i)
        let precision = instruments[bar.instrument]?.pricePrecision ?? 5
        let atrNow = series.atr[i]
        guard i >= 1, let atr = series.atr[i - 1], atr > 0 else {
            let why = i >= 1 && series.atr[i - 1] != nil ? "no price movement yet (ATR 0)"
                : "warming up: \(series.count) bars, ATR needs \(p.atrPeriod + 1)"
            return WyckoffAnalysis(bar: bar, range: nil, atr: atrNow, scores: .none, events: [], signal: nil, remarks: remarks + [why])
        }
        let found = WyckoffStructure.findRange(series, end: i, atr: atr, parameters: p)
        // Published levels keep one digit more than the instrument quotes: bars are mid prices,
        // which can sit half a point between two quotes.
        func price(_ x: Double) -> Decimal { WyckoffMath.price(x, precision: precision + 1, rule: .toNearestOrAwayFromZero) }

        // Events, bullish rules on the real view and, mirrored, the bearish ones.
        var events: [WyckoffEvent] = []
        var candidates: [SignalCandidate] = []
        var newAnchors: [WyckoffAnchor] = []
        for mirrored in [false, true] {
            let view = WyckoffView(series: series, mirrored: mirrored)
            let rules = WyckoffEventRules(view: view, i: i, atr: atr, parameters: p)
            var raws: [WyckoffRawEvent] = []
            if let r = found {
                let s = mirrored ? -r.resistance : r.support, res = mirrored ? -r.support : r.resistance
                let springKind: WyckoffEvent.Kind = mirrored ? .upthrust : .spring
                let lastSpring = state.latest[springKind].map { series.local($0.index) }
                if let e = rules.spring(support: s, resistance: res, lastSpring: lastSpring,
                                        requiredVolume: mirrored ? p.upthrustVolumeRatio : p.springVolumeRatio) { raws.append(e) }
                if let e = rules.signOfStrength(support: s, resistance: res,
                                                requiredVolume: mirrored ? p.sowVolumeRatio : p.sosVolumeRatio) { raws.append(e) }
            }
            let sideAnchors = state.anchors.filter { $0.kind.side == (mirrored ? .sell : .buy) }
                .sorted { $0.index > $1.index }
                .map { a -> WyckoffAnchor in
                    guard mirrored else { return a }
                    return WyckoffAnchor(kind: a.kind == .upthrust ? .spring : .sos, index: a.index, support: -a.resistance,
                                         resistance: -a.support, extreme: -a.extreme, used: a.used)
                }
            if let e = rules.lastPointOfSupport(anchors: sideAnchors, localIndex: series.local) { raws.append(e) }

            for raw in raws {
                let kind = mirrored ? Self.mirror(raw.kind) : raw.kind
                let real = { (x: Double) in view.price(x) }
                let support = mirrored ? -raw.resistance : raw.support, resistance = mirrored ? -raw.support : raw.resistance
                let event = WyckoffEvent(kind: kind, barStart: bar.start, level: price(real(raw.level)), extreme: price(real(raw.extreme)),
                                         volumeRatio: raw.volumeRatio, depthATR: raw.depthATR, bars: raw.bars, strength: raw.strength,
                                         support: price(support), resistance: price(resistance),
                                         follows: raw.anchorKind.map { mirrored ? Self.mirror($0) : $0 })
                events.append(event)
                candidates.append(SignalCandidate(event: event, extreme: real(raw.extreme), support: support, resistance: resistance))
                state.latest[kind] = (absolute, event)
                if kind == .spring || kind == .upthrust {
                    // The excursion came back: a breakdown (breakout) inside it failed, which is
                    // what makes it a spring (upthrust), so it no longer counts as SOW (SOS).
                    let failed: WyckoffEvent.Kind = kind == .spring ? .sow : .sos
                    let first = absolute - raw.bars + 1
                    if let f = state.latest[failed], f.index >= first { state.latest[failed] = nil }
                    state.anchors.removeAll { $0.kind == failed && $0.index >= first }
                    newAnchors.removeAll { $0.kind == failed && $0.index >= first }
                }
                if let used = raw.anchorIndex, let k = state.anchors.firstIndex(where: { $0.index == used && $0.kind.side == kind.side }) {
                    state.anchors[k].used = true
                }
                if kind != .lps && kind != .lpsy {
                    newAnchors.append(WyckoffAnchor(kind: kind, index: absolute, support: support, resistance: resistance,
                                                    extreme: real(raw.extreme)))
                }
            }
        }
        state.anchors.removeAll { $0.used || absolute - $0.index > p.lpsMaxBars + p.lpsConfirmBars }
        state.anchors.append(contentsOf: newAnchors)

        // Phase scores after this bar.
        func seen(_ kind: WyckoffEvent.Kind) -> Bool {
            guard let r = found, let e = state.latest[kind] else { return false }
            return e.index >= series.absolute(r.firstIndex)
        }
        func breakout(_ kind: WyckoffEvent.Kind) -> Double {
            guard let e = state.latest[kind], absolute - e.index < p.rangeWindow else { return 0 }
            return e.event.volumeRatio
        }
        let scores = WyckoffPhaseScoring.scores(.init(series: series, i: i, atr: atrNow ?? atr, range: found,
                                                      springSeen: seen(.spring), upthrustSeen: seen(.upthrust),
                                                      breakoutUpVolumeRatio: breakout(.sos), breakoutDownVolumeRatio: breakout(.sow),
                                                      parameters: p))

        let range = found.map {
            TradingRange(support: price($0.support), resistance: price($0.resistance), supportTouches: $0.supportTouches,
                         resistanceTouches: $0.resistanceTouches, firstTouch: series.bars[$0.firstIndex].start,
                         lastTouch: series.bars[$0.lastIndex].start, heightATR: $0.heightATR, containment: $0.containment)
        }
        let signal = makeSignal(candidates, bar: bar, index: absolute, atr: atr, range: range, scores: scores,
                                precision: precision, state: &state, remarks: &remarks)
        return WyckoffAnalysis(bar: bar, range: range, atr: atrNow, scores: scores, events: events, signal: signal, remarks: remarks)
    }

    private static func mirror(_ kind: WyckoffEvent.Kind) -> WyckoffEvent.Kind {
        switch kind {
        case .spring: .upthrust
        case .upthrust: .spring
        case .sos: .sow
        case .sow: .sos
        case .lps: .lpsy
        case .lpsy: .lps
        }
    }

    /// Entry at the close; stop `stopATR` ATRs beyond the event's extreme; target by the target
    /// rule; reward/risk and confidence (half phase support, half event strength) checked; the
    /// best qualifying event wins, unless the instrument is cooling down after its last signal.
    /// An event with the unrounded prices its stop and target are computed from.
    private struct SignalCandidate {
        let event: WyckoffEvent
        let extreme: Double
        let support: Double
        let resistance: Double
    }

    private func makeSignal(_ candidates: [SignalCandidate], bar: Bar, index: Int, atr: Double, range: TradingRange?,
                            scores: WyckoffPhaseScores, precision: Int, state: inout InstrumentState,
                            remarks: inout [String]) -> Signal? {
        let p = parameters
        var best: Signal?
        for candidate in candidates {
            let event = candidate.event
            if (event.kind == .sos || event.kind == .sow) && !p.signalOnSOS { continue }
            let side = event.kind.side
            let long = side == .buy
            let entry = bar.close
            let extreme = candidate.extreme, support = candidate.support, resistance = candidate.resistance
            let height = resistance - support
            let stopRaw = long ? extreme - p.stopATR * atr : extreme + p.stopATR * atr
            let targetRaw: Double
            if event.isReversal && p.targetRule == .rangeOpposite {
                targetRaw = long ? resistance : support
            } else {
                targetRaw = long ? resistance + height : support - height
            }
            // Rounding makes the stop wider and the target nearer, never the other way.
            let stop = WyckoffMath.price(stopRaw, precision: precision, rule: long ? .down : .up)
            let target = WyckoffMath.price(targetRaw, precision: precision, rule: long ? .down : .up)
            let risk = WyckoffMath.double(long ? entry - stop : stop - entry)
            let reward = WyckoffMath.double(long ? target - entry : entry - target)
            guard risk > 0, reward > 0 else {
                remarks.append("\(event.kind.rawValue): no signal, target \(target) or stop \(stop) on the wrong side of entry \(entry)")
                continue
            }
            let rewardRisk = reward / risk
            let phaseSupport = long ? max(scores.accumulation, scores.markup) : max(scores.distribution, scores.markdown)
            let confidence = 0.5 * phaseSupport + 0.5 * event.strength
            if rewardRisk < p.minRewardRisk {
                remarks.append("\(event.kind.rawValue): no signal, reward/risk \(WyckoffMath.text(rewardRisk)) < \(p.minRewardRisk)")
                continue
            }
            if confidence < p.minConfidence {
                remarks.append("\(event.kind.rawValue): no signal, confidence \(WyckoffMath.text(confidence)) < \(p.minConfidence)")
                continue
            }
            let f = scores.features
            var evidence: [String: String] = [
                "event": event.kind.rawValue,
                "volumeRatio": WyckoffMath.text(event.volumeRatio),
                "depthATR": WyckoffMath.text(event.depthATR),
                "eventBars": "\(event.bars)",
                "strength": WyckoffMath.text(event.strength),
                "level": "\(event.level)",
                "extreme": "\(event.extreme)",
                "support": "\(event.support)",
                "resistance": "\(event.resistance)",
                "atr": WyckoffMath.text(atr, precision + 1),
                "rewardRisk": WyckoffMath.text(rewardRisk),
                "targetRule": p.targetRule.rawValue,
                "phaseSupport": WyckoffMath.text(phaseSupport),
                "slopeATR": WyckoffMath.text(f.slopeATR, 3),
                "contraction": WyckoffMath.text(f.contraction),
                "rangeVolumeTrend": WyckoffMath.text(f.rangeVolumeTrend),
                "upVolumeShare": WyckoffMath.text(f.upVolumeShare),
                "structure": WyckoffMath.text(f.structure),
                "priorTrendATR": WyckoffMath.text(f.priorTrendATR),
                "score.accumulation": WyckoffMath.text(scores.accumulation),
                "score.markup": WyckoffMath.text(scores.markup),
                "score.distribution": WyckoffMath.text(scores.distribution),
                "score.markdown": WyckoffMath.text(scores.markdown),
            ]
            if let range {
                evidence["supportTouches"] = "\(range.supportTouches)"
                evidence["resistanceTouches"] = "\(range.resistanceTouches)"
                evidence["rangeHeightATR"] = WyckoffMath.text(range.heightATR)
            }
            if let follows = event.follows { evidence["follows"] = follows.rawValue }
            let signal = Signal(id: "\(bar.instrument)-\(bar.start)-\(event.kind.rawValue)", instrument: bar.instrument, side: side,
                                entry: entry, stopLoss: stop, takeProfit: target, confidence: confidence, pattern: event.kind.rawValue,
                                phase: scores.dominant?.rawValue ?? "undetermined", evidence: evidence,
                                createdAt: bar.start + Int64(bar.timeframeSeconds) * 1_000_000)
            if best == nil || confidence > best!.confidence { best = signal }
        }
        guard let signal = best else { return nil }
        if let last = state.lastSignalIndex, index - last <= p.cooldownBars {
            remarks.append("\(signal.pattern): no signal, cooldown: \(index - last) of \(p.cooldownBars) bars since the last signal")
            return nil
        }
        state.lastSignalIndex = index
        return signal
    }
}
