import TMTBase
import TMTModels

/// When an order may be released and with what size, with the figures that explain it.
public struct HumanSchedule: Sendable, Equatable {
    /// The scheduled order.
    public var orderId: String
    /// When the schedule was made. Unit: µs since the epoch.
    public var decidedAt: Int64
    /// When the order may be published on `orders.humanized`. Unit: µs since the epoch.
    public var releaseAt: Int64
    /// Size to release (≤ `proposedQuantity`). Unit: lots.
    public var quantity: Decimal
    /// Size the order arrived with. Unit: lots.
    public var proposedQuantity: Decimal
    /// Rounding step used, or nil when the size was not rounded.
    public var roundingStep: Decimal?
    /// The reaction delay drawn from the personality, before warm-up and scale. Unit: seconds.
    public var drawnDelaySeconds: Double
    /// Warm-up factor applied to the delay (1 outside a warm-up).
    public var warmUpFactor: Double
    /// The delay after warm-up, scale and any risk-reducing cap. Unit: seconds.
    public var delaySeconds: Double
    /// Wait for the session to open. Unit: seconds.
    public var sessionWaitSeconds: Double
    /// Wait for the end of a lunch or short break. Unit: seconds.
    public var breakWaitSeconds: Double
    /// `HUMAN_DELAY_SCALE` in force.
    public var delayScale: Double
    /// True when the total hold was cut to the maximum hold.
    public var maxHoldApplied: Bool
    /// True when the order is risk-reducing (no waits, no rounding, capped delay).
    public var riskReducing: Bool

    public init(orderId: String, decidedAt: Int64, releaseAt: Int64, quantity: Decimal, proposedQuantity: Decimal,
                roundingStep: Decimal?, drawnDelaySeconds: Double, warmUpFactor: Double, delaySeconds: Double,
                sessionWaitSeconds: Double, breakWaitSeconds: Double, delayScale: Double, maxHoldApplied: Bool,
                riskReducing: Bool) {
        self.orderId = orderId
        self.decidedAt = decidedAt
        self.releaseAt = releaseAt
        self.quantity = quantity
        self.proposedQuantity = proposedQuantity
        self.roundingStep = roundingStep
        self.drawnDelaySeconds = drawnDelaySeconds
        self.warmUpFactor = warmUpFactor
        self.delaySeconds = delaySeconds
        self.sessionWaitSeconds = sessionWaitSeconds
        self.breakWaitSeconds = breakWaitSeconds
        self.delayScale = delayScale
        self.maxHoldApplied = maxHoldApplied
        self.riskReducing = riskReducing
    }

    /// Total hold from decision to release. Unit: seconds.
    public var holdSeconds: Double { Double(releaseAt - decidedAt) / 1e6 }

    /// The decision to record on the order: `.delayed` when it is held, `.approved` when it
    /// may go at once; the figures are fixed-point decimal strings.
    public var decision: Decision {
        func f(_ x: Double) -> String { String(cFormat: "%.3f", x) }
        var figures: [String: String] = [
            "releaseAt": String(releaseAt),
            "holdSeconds": f(holdSeconds),
            "drawnDelaySeconds": f(drawnDelaySeconds),
            "warmUpFactor": f(warmUpFactor),
            "delaySeconds": f(delaySeconds),
            "sessionWaitSeconds": f(sessionWaitSeconds),
            "breakWaitSeconds": f(breakWaitSeconds),
            "delayScale": f(delayScale),
            "maxHoldApplied": String(maxHoldApplied),
            "riskReducing": String(riskReducing),
            "quantityFrom": "\(proposedQuantity)",
            "quantityTo": "\(quantity)",
        ]
        if let roundingStep { figures["roundingStep"] = "\(roundingStep)" }
        return Decision(agent: "human-behavior", verdict: releaseAt > decidedAt ? .delayed : .approved,
                        figures: figures, decidedAt: decidedAt)
    }

    /// `order` with the scheduled quantity; the status is left to the agent, which advances it
    /// to `.humanized` with `decision` when it releases the order.
    public func applied(to order: Order) -> Order {
        var copy = order
        copy.quantity = quantity
        return copy
    }
}
