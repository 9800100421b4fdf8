import TMTBase
import TMTModels

/// Decides when each order may be released and with what size, from the account's
/// personality. Pure: time comes in as an argument (or from an injected `TMTClock`).
///
/// The reaction delay is drawn on the sub-stream `human-order:<order id>` of the seed, so a
/// redelivered order draws the same delay; with the same `now` the whole schedule is the same.
/// (The agent should add to the delay queue with `ZADD NX`, so a redelivery later in time keeps
/// the first release time.)
public struct HumanScheduler: Sendable {
    /// The validated configuration.
    public let configuration: HumanBehaviorConfiguration
    /// Instruments by symbol, for the lot step used in rounding. Default `Instrument.catalog`.
    public let instruments: [String: Instrument]
    private let personalities: [String: HumanPersonality]

    /// - Parameters:
    ///   - configuration: validated here; an invalid one throws a `.configuration` error.
    ///   - instruments: lot steps by symbol; an order for an unknown symbol is not rounded.
    ///   - personalities: explicit personalities by account id, overriding the derived ones
    ///     (e.g. an account configured to London hours).
    public init(configuration: HumanBehaviorConfiguration, instruments: [String: Instrument] = Instrument.catalog,
                personalities: [String: HumanPersonality] = [:]) throws(TMTError) {
        try configuration.validate()
        self.configuration = configuration
        self.instruments = instruments
        self.personalities = personalities
    }

    /// The personality of `accountId`: the explicit one if given, otherwise derived.
    public func personality(for accountId: String) -> HumanPersonality {
        personalities[accountId] ?? HumanPersonality.derive(accountId: accountId, configuration: configuration)
    }

    /// The schedule of `order` at the clock's current time.
    public func schedule(order: Order, clock: any TMTClock) -> HumanSchedule {
        schedule(order: order, now: clock.now())
    }

    /// The schedule of `order` decided at `now`.
    ///
    /// - Scale 0: release at `now`, size unchanged.
    /// - Risk-reducing: release after min(drawn delay, `riskReducingCapSeconds`) × scale; no
    ///   session or break wait, no warm-up, no rounding (a close must close the whole position).
    /// - Otherwise: wait for the trader to be active (session, lunch, short breaks), then the
    ///   drawn delay × warm-up × scale; the total hold is cut to `maxHoldSeconds`; the size is
    ///   rounded down to the trader's nice step (`HumanSizeRounding`).
    public func schedule(order: Order, now: Date) -> HumanSchedule {
        let c = configuration
        let nowMicros = Self.micros(now)
        guard c.delayScale > 0 else {
            return HumanSchedule(orderId: order.id, decidedAt: nowMicros, releaseAt: nowMicros, quantity: order.quantity,
                                 proposedQuantity: order.quantity, roundingStep: nil, drawnDelaySeconds: 0, warmUpFactor: 1,
                                 delaySeconds: 0, sessionWaitSeconds: 0, breakWaitSeconds: 0, delayScale: 0,
                                 maxHoldApplied: false, riskReducing: order.riskReducing)
        }
        let person = personality(for: order.accountId)
        var rng = SeededRandom.derived(seed: c.seed, stream: "human-order:" + order.id)
        let drawn = person.drawDelay(&rng, clamp: c.delayClampSeconds)

        if order.riskReducing {
            let delay = min(drawn, c.riskReducingCapSeconds) * c.delayScale
            return HumanSchedule(orderId: order.id, decidedAt: nowMicros, releaseAt: nowMicros + Self.micros(seconds: delay),
                                 quantity: order.quantity, proposedQuantity: order.quantity, roundingStep: nil,
                                 drawnDelaySeconds: drawn, warmUpFactor: 1, delaySeconds: delay, sessionWaitSeconds: 0,
                                 breakWaitSeconds: 0, delayScale: c.delayScale, maxHoldApplied: false, riskReducing: true)
        }

        let available = person.availability(from: now)
        let warmUp = person.warmUp(at: available)
        let delay = drawn * warmUp * c.delayScale
        let wanted = Self.micros(available.activeAt) + Self.micros(seconds: delay)
        let latest = nowMicros + Self.micros(seconds: c.maxHoldSeconds)
        let rounding: HumanSizeRounding.Result
        if let instrument = instruments[order.instrument] {
            rounding = HumanSizeRounding.round(order.quantity, lotStep: instrument.lotStep, habitStep: person.roundingStep,
                                               niceSteps: c.niceLotSteps, maxLossFraction: c.maxRoundingLossFraction)
        } else {
            rounding = HumanSizeRounding.Result(from: order.quantity, to: order.quantity, step: nil)
        }
        return HumanSchedule(orderId: order.id, decidedAt: nowMicros, releaseAt: min(wanted, latest), quantity: rounding.to,
                             proposedQuantity: order.quantity, roundingStep: rounding.step, drawnDelaySeconds: drawn,
                             warmUpFactor: warmUp, delaySeconds: delay, sessionWaitSeconds: available.sessionWaitSeconds,
                             breakWaitSeconds: available.breakWaitSeconds, delayScale: c.delayScale,
                             maxHoldApplied: wanted > latest, riskReducing: false)
    }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1e6).rounded()) }
    static func micros(seconds: Double) -> Int64 { Int64((seconds * 1e6).rounded()) }
}
