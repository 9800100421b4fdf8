import TMTBase
import TMTModels

/// A `ShadowTradeSimulator` made from a closure, for callers that already have a function
/// `(bars, parameters) -> [ClosedTrade]`.
public struct ClosureShadowTradeSimulator: ShadowTradeSimulator {
    private let body: @Sendable ([Bar], [String: String]) throws -> [ClosedTrade]

    /// Wraps `body`, called once per simulated parameter set.
    public init(_ body: @escaping @Sendable ([Bar], [String: String]) throws -> [ClosedTrade]) {
        self.body = body
    }

    public func simulate(bars: [Bar], parameters: [String: String]) throws -> [ClosedTrade] {
        try body(bars, parameters)
    }
}
