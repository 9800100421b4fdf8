import TMTBase
import TMTModels

/// The broad kind of an instrument, which decides its commission schedule.
public enum InstrumentClass: String, Codable, Sendable, CaseIterable {
    /// Currency pairs (EUR_USD, USD_JPY, …).
    case fx
    /// Precious metals quoted against a currency (XAU_USD, XAG_USD).
    case metal
    /// Index CFDs (US30) and anything else that is neither a currency pair nor a metal.
    case index

    /// Metal codes as ISO 4217 spells them.
    static let metalCodes: Set<String> = ["XAU", "XAG", "XPT", "XPD"]

    /// Classifies `instrument` from its base and quote: a metal base → metal; two three-letter
    /// currency codes → fx; otherwise index.
    public init(instrument: Instrument) {
        func isCurrencyCode(_ s: String) -> Bool { s.count == 3 && s.allSatisfy { $0.isASCII && $0.isUppercase } }
        if Self.metalCodes.contains(instrument.base) {
            self = .metal
        } else if isCurrencyCode(instrument.base) && isCurrencyCode(instrument.quoteCurrency) {
            self = .fx
        } else {
            self = .index
        }
    }
}
