/// Where one watched metric stands against its thresholds.
public enum BreakerLevel: String, Codable, Sendable, Comparable, CaseIterable {
    /// Below the warning level (or, after a warning, below the hysteresis clear level).
    case clear
    /// At or above the warning level, or still above the clear level after a warning.
    case warning
    /// At or above the trip level: reaching the limit trips.
    case breach

    public static func < (lhs: BreakerLevel, rhs: BreakerLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Classifies `value` with hysteresis: at or above `trip` is a breach, at or above `warning`
    /// a warning; once the previous level was warning or breach, the metric stays a warning until
    /// it falls strictly below `clearBelow` (normally `warning × (1 − hysteresis)`), so a metric
    /// hovering at the warning level does not flap.
    public static func classify<V: Comparable>(_ value: V, warning: V, trip: V, clearBelow: V,
                                               previous: BreakerLevel?) -> BreakerLevel {
        if value >= trip { return .breach }
        if value >= warning { return .warning }
        if let previous, previous != .clear, value >= clearBelow { return .warning }
        return .clear
    }
}
