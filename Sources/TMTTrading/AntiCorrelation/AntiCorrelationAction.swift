import TMTBase

/// What anti-correlation does to an order, by the strongest correlation it would create:
/// below `staggerLevel` nothing; from it a delay; from `resizeLevel` a delay and a smaller size;
/// from `blockLevel` the order is skipped. Levels are inclusive lower bounds.
public enum AntiCorrelationAction: String, Codable, Sendable, Comparable, CaseIterable {
    case none, stagger, resize, block

    /// The action for a correlation `value` (already rounded to 4 places) under `configuration`.
    public static func forCorrelation(_ value: Decimal, configuration: AntiCorrelationConfiguration) -> AntiCorrelationAction {
        if value >= configuration.blockLevel { return .block }
        if value >= configuration.resizeLevel { return .resize }
        if value >= configuration.staggerLevel { return .stagger }
        return .none
    }

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}
