import TMTBase
import TMTModels

/// Turns bars and a parameter set into the trades a strategy would have closed: the injection
/// point where the agent plugs in the real Wyckoff detector and the paper fill model, so the
/// improvement core stays agnostic of the strategy. Parameters are text, as on `config.updates`.
public protocol ShadowTradeSimulator: Sendable {
    /// The trades closed when replaying `bars` (chronological) with `parameters`.
    func simulate(bars: [Bar], parameters: [String: String]) throws -> [ClosedTrade]
}
