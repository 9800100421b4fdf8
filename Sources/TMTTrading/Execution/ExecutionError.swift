import TMTBase

/// A problem the execution core cannot decide around: the input does not fit together (a quote
/// for another instrument, a ledger of another account) or a figure it needs is missing (no
/// conversion rate yet). Nothing has changed when it is thrown, so the caller can keep the order
/// and retry once the missing quote arrives.
///
/// Problems with the order itself (no price on a limit order, an unknown instrument) are not
/// errors: they end the order as `cancelled` with the reason, so every order still reaches
/// exactly one terminal outcome.
public struct ExecutionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A category of failure. Extensible: new codes are static members, not enum cases.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No rate converts a currency the core needs into the account currency.
        public static let missingConversionRate = Code("missing_conversion_rate")
        /// An open position's instrument has no quote, so equity and margin cannot be valued.
        public static let missingQuote = Code("missing_quote")
        /// The quote, the ledger or the order belong to different instruments or accounts.
        public static let mismatch = Code("mismatch")
        /// The order is not in a state the execution core takes (e.g. not yet cleared).
        public static let lifecycle = Code("lifecycle")
    }

    public var code: Code
    /// Safe to log: names the order, instrument or currency involved, never credentials.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
