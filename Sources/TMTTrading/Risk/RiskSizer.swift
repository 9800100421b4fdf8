import TMTBase
import TMTModels

/// ARIA's position sizing for one signal and one account (ARCHITECTURE.md, "ARIA risk"):
///
///     rawLots = balance × risk% / (stop distance × value of 1.0 move per lot in account currency)
///     adjustedLots = rawLots × volatility × drawdown × correlation × RISK_MULTIPLIER
///     lots = min(adjustedLots, firm max lots, position room, daily-loss room, margin room),
///            rounded down to the lot step
///
/// Pure: the market and the account come in as values, time from the injected clock. Whatever
/// cannot be computed from data (no quote to convert a currency, an unknown contract) skips
/// the account with a reason instead of guessing.
public struct RiskSizer: Sendable {
    /// The agent name on every decision.
    public static let agent = "aria-risk"

    /// The validated configuration.
    public let configuration: RiskConfiguration
    private let clock: any TMTClock

    /// Validates `configuration` (throws a `.configuration` error naming the bad field).
    public init(configuration: RiskConfiguration = RiskConfiguration(), clock: any TMTClock = SystemClock()) throws(TMTError) {
        try configuration.validate()
        self.configuration = configuration
        self.clock = clock
    }

    /// Sizes `signal` for `state`'s account against `market`.
    public func size(signal: Signal, for state: RiskAccountState, market: RiskMarketSnapshot) -> SizingResult {
        let decidedAt = Int64((clock.now().timeIntervalSince1970 * 1_000_000).rounded())
        let account = state.account
        var breakdown = RiskBreakdown(accountId: account.id, currency: account.currency, balance: account.balance,
                                      equity: account.equity, riskMultiplier: configuration.riskMultiplier)
        do {
            let lots = try compute(signal: signal, state: state, market: market, breakdown: &breakdown)
            let decision = Decision(agent: Self.agent, verdict: .approved, checks: checks(breakdown, lots: lots),
                                    figures: breakdown.figures, decidedAt: decidedAt)
            let order = Order(id: Order.id(signalId: signal.id, accountId: account.id), signalId: signal.id, accountId: account.id,
                              instrument: signal.instrument, side: signal.side, type: .market, quantity: lots, price: nil,
                              stopLoss: signal.stopLoss, takeProfit: signal.takeProfit, riskReducing: false, status: .proposed,
                              decisions: [decision], createdAt: decidedAt)
            return SizingResult(signalId: signal.id, accountId: account.id, lots: lots, skip: nil, breakdown: breakdown,
                                decision: decision, order: order)
        } catch {
            breakdown.finalLots = 0
            var figures = breakdown.figures
            figures["skipCode"] = error.code.rawValue
            figures["skipReason"] = error.message
            let decision = Decision(agent: Self.agent, verdict: .skipped,
                                    checks: [Decision.Check(rule: error.code.rawValue, passed: false, detail: error.message)],
                                    figures: figures, decidedAt: decidedAt)
            return SizingResult(signalId: signal.id, accountId: account.id, lots: 0, skip: error, breakdown: breakdown,
                                decision: decision, order: nil)
        }
    }

    // MARK: - The computation

    private func compute(signal: Signal, state: RiskAccountState, market: RiskMarketSnapshot,
                         breakdown b: inout RiskBreakdown) throws(RiskSkip) -> Decimal {
        let account = state.account
        let ccy = account.currency
        guard let instrument = market.instruments[signal.instrument] else {
            throw RiskSkip(.unknownInstrument, "no contract facts (contract size, lot step, margin) for \(signal.instrument)")
        }
        b.lotStep = instrument.lotStep
        guard account.balance > 0 else {
            throw RiskSkip(.invalidAccount, "balance \(RiskDecimal.fixed(account.balance, 2)) \(ccy) is not positive")
        }
        let riskPercent = configuration.riskPercent(forAccount: account.id)
        let riskAmount = account.balance * riskPercent / 100
        b.riskPercent = riskPercent
        b.riskAmount = riskAmount
        b.entry = signal.entry

        let isBuy = signal.side == .buy
        let stopOnLosingSide = isBuy ? signal.stopLoss < signal.entry : signal.stopLoss > signal.entry
        guard signal.stopLoss > 0, stopOnLosingSide else {
            throw RiskSkip(.invalidStop, "stop \(signal.stopLoss) is not \(isBuy ? "below" : "above") the entry \(signal.entry) "
                + "of a \(signal.side.rawValue); the risk per lot is undefined")
        }

        // A market order fills at the live touch, not at the signal's entry; size on the larger
        // of the two distances so a stale entry never understates the loss at the stop.
        let reference: Decimal
        let source: String
        if let tick = market.converter.tick(for: signal.instrument) {
            reference = isBuy ? tick.ask : tick.bid
            source = isBuy ? "live ask" : "live bid"
        } else {
            reference = signal.entry
            source = "signal entry (no live quote)"
        }
        b.referencePrice = reference
        b.priceSource = source
        guard reference > 0, isBuy ? reference > signal.stopLoss : reference < signal.stopLoss else {
            throw RiskSkip(.priceBeyondStop, "\(source) \(reference) is already at or beyond the stop \(signal.stopLoss)")
        }
        let stopDistance = max(abs(signal.entry - signal.stopLoss), abs(reference - signal.stopLoss))
        b.stopDistance = stopDistance

        guard let conversion = market.converter.conversion(from: instrument.quoteCurrency, to: ccy) else {
            throw RiskSkip(.conversionUnavailable, missingQuoteMessage(from: instrument.quoteCurrency, to: ccy,
                                                                       purpose: "the P&L of \(instrument.symbol)",
                                                                       pivots: market.converter.pivots))
        }
        b.conversion = conversion
        let valuePerLot = instrument.contractSize * conversion.rate
        let lossPerLot = stopDistance * valuePerLot
        b.valuePerLot = valuePerLot
        b.valuePerPip = instrument.pipSize * valuePerLot
        b.lossPerLot = lossPerLot
        let rawLots = RiskDecimal.quantity(riskAmount / lossPerLot)
        b.rawLots = rawLots

        // Open positions: their margin and their weight in the correlation, both in account currency.
        var usedMargin: Decimal = 0
        var holdings: [CorrelationFactor.Holding] = []
        for position in state.positions where position.quantity != 0 {
            guard let held = market.instruments[position.instrument] else {
                throw RiskSkip(.unknownInstrument, "open position in \(position.instrument) has no contract facts, so the free margin is unknown")
            }
            guard let heldConversion = market.converter.conversion(from: held.quoteCurrency, to: ccy) else {
                throw RiskSkip(.conversionUnavailable, missingQuoteMessage(from: held.quoteCurrency, to: ccy,
                                                                           purpose: "the margin of the open \(held.symbol) position",
                                                                           pivots: market.converter.pivots))
            }
            let price = market.converter.tick(for: position.instrument)?.mid ?? position.averagePrice
            let notional = abs(position.quantity) * held.contractSize * price * heldConversion.rate
            usedMargin += notional * held.marginRate
            holdings.append(CorrelationFactor.Holding(instrument: position.instrument, quantity: position.quantity, notional: notional))
        }

        let volatility = VolatilityFactor.assess(bars: market.bars[signal.instrument] ?? [], parameters: configuration.volatility)
        let drawdown = DrawdownFactor.assess(account: account, dailyLossLimit: state.limits.dailyLossLimit,
                                             parameters: configuration.drawdown)
        let correlation = CorrelationFactor.assess(side: signal.side, instrument: signal.instrument, holdings: holdings,
                                                   returns: market.returns, parameters: configuration.correlation)
        b.volatility = volatility
        b.drawdown = drawdown
        b.correlation = correlation
        let combined = volatility.factor * drawdown.factor * correlation.factor * configuration.riskMultiplier
        let adjusted = rawLots * combined
        b.combinedFactor = combined
        b.adjustedLots = adjusted

        // Caps.
        let limits = state.limits
        if let maxLots = limits.maxLotsPerOrder {
            b.caps.append(.init(kind: .maxLotsPerOrder, lots: max(0, maxLots), detail: "firm maximum \(maxLots) lots per order"))
        }
        if let maxPosition = limits.maxPositionLots {
            let existing = state.positions.first { $0.instrument == signal.instrument }?.quantity ?? 0
            let sameWay = existing != 0 && (existing > 0) == isBuy
            // The order adds to a same-direction position; against an opposite one it first nets it off.
            let room = max(0, sameWay ? maxPosition - abs(existing) : maxPosition + abs(existing))
            b.caps.append(.init(kind: .maxPosition, lots: room,
                                detail: "firm maximum position \(maxPosition) lots, \(existing) lots already held"))
        }
        if let dailyLimit = limits.dailyLossLimit {
            let left = limits.dailyLossRoom ?? dailyLimit - max(0, -account.dailyPnL)
            let room = max(0, left)
            b.caps.append(.init(kind: .dailyLoss, lots: RiskDecimal.quantity(room / lossPerLot),
                                detail: "daily loss limit \(RiskDecimal.fixed(dailyLimit, 2)) \(ccy), \(RiskDecimal.fixed(max(0, dailyLimit - left), 2)) lost today, "
                                    + "\(RiskDecimal.fixed(room, 2)) left at \(RiskDecimal.fixed(lossPerLot, 2)) per lot"))
        }
        if let maxRoom = limits.maxLossRoom {
            let room = max(0, maxRoom)
            b.caps.append(.init(kind: .maxLoss, lots: RiskDecimal.quantity(room / lossPerLot),
                                detail: "maximum loss: \(RiskDecimal.fixed(room, 2)) \(ccy) left above the floor at \(RiskDecimal.fixed(lossPerLot, 2)) per lot"))
        }
        let marginPerLot = instrument.contractSize * reference * instrument.marginRate * conversion.rate
        let freeMargin = account.equity - usedMargin
        let usableMargin = freeMargin * (100 - configuration.marginBufferPercent) / 100
        b.marginPerLot = marginPerLot
        b.usedMargin = usedMargin
        b.freeMargin = freeMargin
        b.usableMargin = usableMargin
        let marginLots = usableMargin > 0 && marginPerLot > 0 ? RiskDecimal.quantity(usableMargin / marginPerLot) : 0
        b.caps.append(.init(kind: .margin, lots: marginLots,
                            detail: "free margin \(RiskDecimal.fixed(freeMargin, 2)) \(ccy) less a \(configuration.marginBufferPercent) % buffer "
                                + "= \(RiskDecimal.fixed(usableMargin, 2)) at \(RiskDecimal.fixed(marginPerLot, 2)) per lot"))

        var size = adjusted
        var binding: RiskBreakdown.Cap?
        for cap in b.caps where cap.lots < size {
            size = cap.lots
            binding = cap
        }
        b.boundBy = binding?.kind.rawValue ?? "risk"
        let lots = RiskDecimal.floor(size, step: instrument.lotStep)
        b.finalLots = lots
        guard lots > 0 else { throw zeroSizeSkip(binding: binding, breakdown: b, step: instrument.lotStep) }
        return lots
    }

    private func missingQuoteMessage(from: String, to: String, purpose: String, pivots: [String]) -> String {
        let pivots = pivots.filter { $0 != from && $0 != to }.joined(separator: " or ")
        return "no live quote converts \(from) to \(to) for \(purpose): need \(to)_\(from) or \(from)_\(to)"
            + (pivots.isEmpty ? "" : ", or both currencies quoted against \(pivots)")
    }

    private func zeroSizeSkip(binding: RiskBreakdown.Cap?, breakdown b: RiskBreakdown, step: Decimal) -> RiskSkip {
        let stepText = "the lot step \(step)"
        guard let binding else {
            return RiskSkip(.belowLotStep, "risk-based size \(b.adjustedLots.map { "\($0)" } ?? "0") lots is below \(stepText): "
                + "\(RiskDecimal.fixed(b.riskAmount ?? 0, 2)) \(b.currency) at risk × factor \(b.combinedFactor.map { "\($0)" } ?? "?") "
                + "against \(RiskDecimal.fixed(b.lossPerLot ?? 0, 2)) \(b.currency) lost per lot at the stop")
        }
        let text = "\(binding.detail) allows \(binding.lots) lots, below \(stepText)"
        switch binding.kind {
        case .maxLotsPerOrder: return RiskSkip(.firmMaxLots, text)
        case .maxPosition: return RiskSkip(.positionLimitReached, text)
        case .dailyLoss: return RiskSkip(.dailyLossExhausted, text)
        case .maxLoss: return RiskSkip(.maxLossExhausted, text)
        case .margin: return RiskSkip(.insufficientMargin, text)
        }
    }

    private func checks(_ b: RiskBreakdown, lots: Decimal) -> [Decision.Check] {
        var out: [Decision.Check] = []
        let factors = [b.volatility?.factor, b.drawdown?.factor, b.correlation?.factor, b.riskMultiplier].map { $0.map { "\($0)" } ?? "?" }
        out.append(Decision.Check(
            rule: "risk-size", passed: true,
            detail: "\(lots) lots: \(RiskDecimal.fixed(b.riskAmount ?? 0, 2)) \(b.currency) risk / \(RiskDecimal.fixed(b.lossPerLot ?? 0, 2)) "
                + "per lot at the stop = \(b.rawLots.map { "\($0)" } ?? "?") lots × volatility \(factors[0]) × drawdown \(factors[1]) "
                + "× correlation \(factors[2]) × multiplier \(factors[3]) = \(b.adjustedLots.map { "\($0)" } ?? "?"); bound by \(b.boundBy ?? "risk")"))
        for cap in b.caps {
            let bound = b.boundBy == cap.kind.rawValue
            out.append(Decision.Check(rule: "cap-\(cap.kind.rawValue)", passed: true, severity: "info",
                                      detail: "\(cap.detail): up to \(cap.lots) lots\(bound ? "; set the size" : "")"))
        }
        return out
    }
}

