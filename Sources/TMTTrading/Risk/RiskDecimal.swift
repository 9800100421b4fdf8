import TMTBase

/// Decimal arithmetic and formatting for sizing: explicit rounding everywhere a figure becomes
/// a quantity, and fixed, locale-independent text for the breakdown figures.
enum RiskDecimal {
    /// `value` rounded to `scale` places with `mode`.
    static func round(_ value: Decimal, _ scale: Int, _ mode: Decimal.RoundingMode = .plain) -> Decimal {
        DecimalMath.round(value, scale: scale, mode)
    }

    /// Removes 38-digit rounding noise before a quantity is rounded down.
    ///
    /// Foundation rounds every product and quotient to 38 significant digits, so a chain such
    /// as risk / (stop × contractSize × (1 / USDJPY) × (1 / EURUSD)) can land a hair off a value
    /// that is exactly on a lot step. Above it is harmless; below it (e.g. 1.4999…9 for 1.5)
    /// flooring would drop a whole step. Rounding to 12 places first moves a size by at most
    /// 5e-13 lots, far below any lot step. (Foundation's division truncates, so in the cases
    /// tried the noise landed above; this is the guard for the cases not tried.)
    static func snap(_ value: Decimal) -> Decimal { round(value, 12, .plain) }

    /// The largest multiple of `step` not above `value` (never rounds risk up); 0 for negatives.
    static func floor(_ value: Decimal, step: Decimal) -> Decimal {
        guard value > 0, step > 0 else { return 0 }
        let steps = round(snap(value / step), 0, .down)
        return steps * step
    }

    static func double(_ value: Decimal) -> Double { DecimalMath.double(value) }

    /// A finite Double as a Decimal with `scale` places (statistics back into exact figures).
    static func decimal(_ value: Double, scale: Int, _ mode: Decimal.RoundingMode = .plain) -> Decimal {
        guard value.isFinite else { return 0 }
        // %.17g keeps every significant digit of the double; Decimal(Double) can be off in the last place.
        let text = String(cFormat: "%.17g", value)
        let parsed = Decimal(string: text) ?? 0
        return round(parsed, scale, mode)
    }

    /// Exactly `places` decimals, no grouping: `3.3` → `3.30`.
    static func fixed(_ value: Decimal, _ places: Int) -> String {
        let r = round(value, places, .plain)
        let negative = r < 0
        let text = "\(negative ? -r : r)"
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        while fraction.count < places { fraction += "0" }
        let body = places > 0 ? "\(parts[0]).\(fraction)" : String(parts[0])
        return negative && r != 0 ? "-" + body : body
    }

    /// Parses a decimal written with a dot, independent of the machine's locale.
    static func parse(_ text: String) -> Decimal? {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") })
        else { return nil }
        return Decimal(string: trimmed)
    }
}

extension RiskDecimal {
    /// A factor that falls linearly from 1 to `minimum` as `x` goes from `start` to `end`:
    /// 1 at or below `start`, `minimum` at or above `end`. Rounded down to 4 places, so a
    /// factor never rounds risk up.
    static func ramp(_ x: Decimal, start: Decimal, end: Decimal, minimum: Decimal) -> Decimal {
        if x <= start { return 1 }
        if x >= end || end <= start { return minimum }
        let fraction = (x - start) / (end - start)
        return round(1 - fraction * (1 - minimum), 4, .down)
    }
}

extension RiskDecimal {
    /// A lot quantity kept exact for the breakdown: snapped (see `snap`), then rounded down to
    /// 8 places, so products of it with 4-place factors stay exact.
    static func quantity(_ value: Decimal) -> Decimal { round(snap(value), 8, .down) }
}
