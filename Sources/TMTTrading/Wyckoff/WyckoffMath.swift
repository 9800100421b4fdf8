import TMTBase

/// Number conversions between the exact model prices and the Double statistics.
enum WyckoffMath {
    static func double(_ x: Decimal) -> Double { DecimalMath.double(x) }

    /// `x` as a decimal with `precision` places, rounded by `rule`. Values within a millionth of a
    /// unit of a representable price are snapped to it first, so binary noise in `x`
    /// (1.08512 stored as 1.0851199999…) does not round a whole unit the wrong way.
    /// Non-finite or absurd inputs give `Decimal.nan`, which every later comparison rejects,
    /// rather than a trap in the agent.
    static func price(_ x: Double, precision: Int, rule: FloatingPointRoundingRule) -> Decimal {
        let scaled = x * pow(10, Double(precision))
        guard scaled.isFinite, abs(scaled) < 9e15 else { return .nan }
        let nearest = scaled.rounded()
        let units = abs(scaled - nearest) < 1e-6 ? nearest : scaled.rounded(rule)
        return Decimal(sign: units < 0 ? .minus : .plus, exponent: -precision, significand: Decimal(Int64(abs(units))))
    }

    /// Clamped to 0…1 (NaN counts as 0).
    static func unit(_ x: Double) -> Double { x.isNaN ? 0 : min(max(x, 0), 1) }

    /// Least-squares slope of `ys` against 0, 1, 2, …; 0 for fewer than two points.
    static func slope(_ ys: ArraySlice<Double>) -> Double {
        let n = Double(ys.count)
        guard ys.count >= 2 else { return 0 }
        let meanX = (n - 1) / 2
        let meanY = ys.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for (k, y) in ys.enumerated() {
            let dx = Double(k) - meanX
            sxy += dx * (y - meanY)
            sxx += dx * dx
        }
        return sxx > 0 ? sxy / sxx : 0
    }

    /// Weighted mean of scores in 0…1.
    static func weighted(_ parts: [(score: Double, weight: Double)]) -> Double {
        let total = parts.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return 0 }
        return unit(parts.reduce(0) { $0 + unit($1.score) * $1.weight } / total)
    }

    /// Fixed-point text for evidence strings.
    static func text(_ x: Double, _ places: Int = 2) -> String { String(cFormat: "%.\(places)f", x) }
}
