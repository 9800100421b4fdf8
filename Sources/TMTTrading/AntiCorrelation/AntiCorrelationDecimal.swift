import TMTBase

/// Exact rounding and fixed text for anti-correlation figures: statistics are computed in
/// `Double`, and come back as `Decimal` with an explicit scale before anything is compared
/// with a level or becomes a quantity.
enum AntiCorrelationDecimal {
    static func round(_ value: Decimal, _ scale: Int, _ mode: Decimal.RoundingMode = .plain) -> Decimal {
        DecimalMath.round(value, scale: scale, mode)
    }

    /// A correlation in −1…1 as a Decimal with 4 places (half away from zero). The rounding is
    /// what makes the levels exact: 0.49999999997 from floating point counts as 0.5000.
    static func correlation(_ value: Double) -> Decimal {
        guard value.isFinite else { return 0 }
        let text = String(cFormat: "%.10f", value)
        return round(Decimal(string: text) ?? 0, 4)
    }

    /// The largest multiple of `step` not above `value`; 0 for non-positive input. Rounded to
    /// 12 places first so a product that lands a hair under a step (38-digit noise) is not
    /// floored a whole step down.
    static func floor(_ value: Decimal, step: Decimal) -> Decimal {
        guard value > 0, step > 0 else { return 0 }
        return round(round(value / step, 12), 0, .down) * step
    }

    /// Exactly `places` decimals: `0.8` → `0.8000`.
    static func fixed(_ value: Decimal, _ places: Int) -> String {
        let r = round(value, places)
        let negative = r < 0
        let text = "\(negative ? -r : r)"
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        while fraction.count < places { fraction += "0" }
        let body = places > 0 ? "\(parts[0]).\(fraction)" : String(parts[0])
        return negative ? "-" + body : body
    }
}
