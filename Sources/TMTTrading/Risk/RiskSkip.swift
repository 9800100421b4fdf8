import TMTBase

/// Why ARIA proposes no order for an account: a stable `code` for metrics and tests, and a
/// message that names the figures involved.
public struct RiskSkip: Error, Sendable, Equatable, CustomStringConvertible {
    /// A category of skip. Extensible: new codes are static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The signal's (or an open position's) instrument has no contract facts.
        public static let unknownInstrument = Code("unknown_instrument")
        /// The account cannot carry risk (balance not positive).
        public static let invalidAccount = Code("invalid_account")
        /// The stop is missing, not positive, or not on the losing side of the entry.
        public static let invalidStop = Code("invalid_stop")
        /// The live price is already at or beyond the stop (or not positive).
        public static let priceBeyondStop = Code("price_beyond_stop")
        /// No live quote converts the quote currency into the account currency.
        public static let conversionUnavailable = Code("conversion_unavailable")
        /// The risk-based size rounds down to zero lots.
        public static let belowLotStep = Code("below_lot_step")
        /// The free margin (after the buffer) does not fit one lot step.
        public static let insufficientMargin = Code("insufficient_margin")
        /// What is left of the daily loss limit does not fit one lot step at the stop.
        public static let dailyLossExhausted = Code("daily_loss_exhausted")
        /// What is left above the maximum-loss floor does not fit one lot step at the stop.
        public static let maxLossExhausted = Code("max_loss_exhausted")
        /// The position limit in the instrument leaves no room.
        public static let positionLimitReached = Code("position_limit_reached")
        /// The firm's maximum lots per order is below one lot step.
        public static let firmMaxLots = Code("firm_max_lots")
    }

    public var code: Code
    /// Human-readable reason with the figures, safe to log and show.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
