import TMTBase
import TMTModels

/// The shadow run continuous improvement compares parameter sets with: stored bars replayed
/// through a fresh `WyckoffDetector` with the parameter set, each signal entered at the market on
/// the next bar's open through the paper `FillModel` (spread, size slippage, depth, commission),
/// and closed when a later bar reaches its stop-loss or take-profit, the way the execution
/// engine closes positions. Pure and deterministic: the same bars and parameters give the same
/// trades.
///
/// What bars cannot tell, and how it is settled:
/// - Bars are mid prices without a spread: quotes are the mid ± half the instrument's typical
///   spread (`InstrumentLiquidity.typicalSpreadPips`), so a long enters at the ask and exits at
///   the bid, as on the live path.
/// - The order inside a bar is unknown: a bar that reaches both the stop and the target counts
///   as the stop (the conservative reading). A bar that opens beyond a level fills at the open
///   (a stop after a gap fills at the gapped price; a target at the open, which is better).
/// - Entry: the signal's bar has closed, so the market order meets the next bar's open. When
///   the next bar starts later than the fill model's market-order time to live after the signal
///   (a weekend, a feed gap), the order would have expired and the signal is not traded.
/// - One position per instrument: signals while a position is open are not traded (the live
///   path nets them; the shadow keeps trades comparable). A position still open after the last
///   bar is not a closed trade and is left out.
/// - A size larger than the book fills in successive passes against the same quote (the engine
///   would fill the rest on the following ticks, whose prices the bar does not carry).
public struct WyckoffShadowSimulator: ShadowTradeSimulator {
    /// Why a simulation could not run.
    public struct SimulationError: Error, CustomStringConvertible, Sendable, Equatable {
        /// What was wrong.
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { "shadow simulation: \(message)" }
    }

    /// The parameters a run starts from; a run's text parameters are applied on top of them
    /// (`WyckoffParameters.applying(updates:)`), exactly as `config.updates` would apply them.
    public let baseline: WyckoffParameters
    /// The paper market the trades are filled in (the execution engine's model).
    public let model: FillModel
    /// Lots per trade. Default 1.
    public let lots: Decimal
    /// Currency P&L and commission are booked in. Default USD.
    public let accountCurrency: String
    /// The `account` of the trades produced. Default `shadow`.
    public let account: String

    /// A simulator; refuses lots that are not positive.
    public init(baseline: WyckoffParameters = WyckoffParameters(), model: FillModel, lots: Decimal = 1,
                accountCurrency: String = "USD", account: String = "shadow") throws {
        guard lots > 0 else { throw SimulationError("lots must be > 0, got \(lots)") }
        try baseline.validate()
        self.baseline = baseline
        self.model = model
        self.lots = lots
        self.accountCurrency = accountCurrency
        self.account = account
    }

    /// An open shadow position.
    private struct OpenTrade {
        let signal: Signal
        let instrument: Instrument
        let entryTime: Int64
        let entryPrice: Decimal
        let entryCommission: Decimal
    }

    public func simulate(bars: [Bar], parameters: [String: String]) throws -> [ClosedTrade] {
        let p = try baseline.applying(updates: parameters)
        var detector = try WyckoffDetector(parameters: p, instruments: model.configuration.instruments)
        var open: [String: OpenTrade] = [:]
        var waiting: [String: Signal] = [:]
        var trades: [ClosedTrade] = []
        let ordered = bars.sorted { ($0.start, $0.instrument) < ($1.start, $1.instrument) }
        let timeToLive = Int64((model.configuration.marketOrderTimeToLiveSeconds * 1_000_000).rounded())
        for bar in ordered {
            guard let instrument = model.instrument(bar.instrument) else {
                throw SimulationError("instrument \(bar.instrument) is not in the fill model's instruments")
            }
            if let signal = waiting.removeValue(forKey: bar.instrument), bar.start <= signal.createdAt + timeToLive {
                open[bar.instrument] = try enter(signal, at: bar, instrument: instrument)
            }
            if let position = open[bar.instrument], let trade = try exit(position, in: bar) {
                trades.append(trade)
                open[bar.instrument] = nil
            }
            if let signal = detector.process(bar).signal, open[bar.instrument] == nil {
                waiting[bar.instrument] = signal
            }
        }
        return trades
    }

    // MARK: - Fills

    /// The quote a mid price stands for: mid ± half the typical spread.
    func quote(instrument: Instrument, mid: Decimal, time: Int64) throws -> Tick {
        let spread = try typicalSpread(instrument)
        return Tick(instrument: instrument.symbol, bid: mid - spread / 2, ask: mid + spread / 2, volume: 0, time: time)
    }

    /// The typical spread in price units.
    func typicalSpread(_ instrument: Instrument) throws -> Decimal {
        guard let liquidity = model.configuration.liquidity[instrument.symbol] else {
            throw SimulationError("no liquidity settings for \(instrument.symbol)")
        }
        return Decimal(string: String(liquidity.typicalSpreadPips))! * instrument.pipSize
    }

    /// Fills `lots` on `side` against `quote`, pass after pass until complete; the volume-weighted
    /// price.
    private func fill(_ instrument: Instrument, side: Side, quote: Tick, limit: Decimal?, slippage: Bool) throws -> Decimal {
        var remaining = lots
        var notional: Decimal = 0
        for _ in 0..<1_000 where remaining > 0 {
            let plan = model.sweep(instrument: instrument, side: side, quantity: remaining, quote: quote, limit: limit,
                                   chargesSlippage: slippage)
            let filled = plan.filledQuantity
            guard filled > 0 else { break }
            notional += plan.legs.reduce(0) { $0 + $1.price * $1.quantity }
            remaining -= filled
        }
        guard remaining == 0 else {
            throw SimulationError("\(lots) lots of \(instrument.symbol) cannot fill against \(quote.bid)/\(quote.ask)")
        }
        return notional / lots
    }

    private func commission(_ instrument: Instrument, quote: Tick) throws -> Decimal {
        guard let rate = model.configuration.commission(for: instrument) else { return 0 }
        guard let toAccount = CurrencyRates(ticks: [quote]).rate(from: rate.currency, to: accountCurrency) else {
            throw SimulationError("no rate from \(rate.currency) to \(accountCurrency) for the commission on \(instrument.symbol)")
        }
        return model.commission(instrument: instrument, lots: lots, rateToAccount: toAccount)
    }

    private func enter(_ signal: Signal, at bar: Bar, instrument: Instrument) throws -> OpenTrade {
        let q = try quote(instrument: instrument, mid: bar.open, time: bar.start)
        let price = try fill(instrument, side: signal.side, quote: q, limit: nil, slippage: true)
        return OpenTrade(signal: signal, instrument: instrument, entryTime: bar.start, entryPrice: price,
                         entryCommission: try commission(instrument, quote: q))
    }

    /// The close of `position` inside `bar`, if the bar reaches its stop or target (the stop
    /// first when it reaches both).
    private func exit(_ position: OpenTrade, in bar: Bar) throws -> ClosedTrade? {
        let instrument = position.instrument
        let signal = position.signal
        let half = try typicalSpread(instrument) / 2
        let long = signal.side == .buy
        // The closing side's prices: a long sells at the bid, a short buys at the ask.
        let shift = long ? -half : half
        let open = bar.open + shift, low = bar.low + shift, high = bar.high + shift
        let stopHit = long ? low <= signal.stopLoss : high >= signal.stopLoss
        let targetHit = long ? high >= signal.takeProfit : low <= signal.takeProfit
        let trigger: Decimal
        let isStop: Bool
        if stopHit {
            isStop = true
            let gapped = long ? open <= signal.stopLoss : open >= signal.stopLoss
            trigger = gapped ? open : signal.stopLoss
        } else if targetHit {
            isStop = false
            let gapped = long ? open >= signal.takeProfit : open <= signal.takeProfit
            trigger = gapped ? open : signal.takeProfit
        } else {
            return nil
        }
        let spread = 2 * half
        let q = long ? Tick(instrument: instrument.symbol, bid: trigger, ask: trigger + spread, volume: 0, time: bar.start)
            : Tick(instrument: instrument.symbol, bid: trigger - spread, ask: trigger, volume: 0, time: bar.start)
        // A stop is a market order (slippage applies); a target a limit at the target.
        let price = try fill(instrument, side: signal.side.opposite, quote: q, limit: isStop ? nil : signal.takeProfit,
                             slippage: isStop)
        guard let toAccount = CurrencyRates(ticks: [q]).rate(from: instrument.quoteCurrency, to: accountCurrency) else {
            throw SimulationError("no rate from \(instrument.quoteCurrency) to \(accountCurrency) for \(instrument.symbol)")
        }
        let pnlQuote = lots * instrument.contractSize * (price - position.entryPrice) * signal.side.sign
        let pnl = ExecutionMath.round(pnlQuote * toAccount, scale: model.configuration.moneyScale)
        return ClosedTrade(id: "shadow:\(signal.id):\(isStop ? ProtectiveKind.stopLoss.rawValue : ProtectiveKind.takeProfit.rawValue)",
                           account: account, instrument: instrument.symbol, pattern: signal.pattern, side: signal.side,
                           entryTime: position.entryTime / 1000, entryPrice: position.entryPrice, exitTime: bar.start / 1000,
                           exitPrice: price, quantity: lots * instrument.contractSize, pnl: pnl,
                           commission: position.entryCommission + (try commission(instrument, quote: q)))
    }
}
