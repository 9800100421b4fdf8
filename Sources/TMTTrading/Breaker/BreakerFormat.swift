import TMTBase

/// Fixed, locale-independent number formatting for breaker details, so a reason reads the same
/// on every machine and tests can assert it.
enum BreakerFormat {
    /// `value` rounded half away from zero to `scale` places.
    static func round(_ value: Decimal, _ scale: Int) -> Decimal { DecimalText.round(value, scale) }

    /// `4120.5` → `4,120.50`.
    static func money(_ value: Decimal) -> String { fixed(value, places: 2, grouped: true) }

    /// A percentage already in percent units with two decimals: `4` → `4.00 %`.
    /// A small non-zero value (under 0.1) gets up to four decimals, so a limit of 0.001 % does not
    /// read as 0.00 %.
    static func percent(_ value: Decimal) -> String {
        let places = value != 0 && abs(value) < Decimal(string: "0.1")! ? 4 : 2
        return fixed(value, places: places, grouped: false) + " %"
    }

    /// A percentage in Double with two decimals.
    static func percent(_ value: Double) -> String { fixed(decimal(value), places: 2, grouped: false) + " %" }

    /// Seconds with one decimal: `15` → `15.0 s`.
    static func seconds(_ value: Double) -> String { fixed(decimal(value), places: 1, grouped: false) + " s" }

    /// Latency seconds with three decimals: `0.5` → `0.500 s`.
    static func latency(_ value: Double) -> String { fixed(decimal(value), places: 3, grouped: false) + " s" }

    /// A rate per minute with one decimal: `30` → `30.0/min`.
    static func perMinute(_ value: Double) -> String { fixed(decimal(value), places: 1, grouped: false) + "/min" }

    /// A price exactly as given.
    static func price(_ value: Decimal) -> String { DecimalText.format(value) }

    /// A Double as a short exact-enough figure string (`15`, `0.5`, `1.25`).
    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    /// A Decimal figure without rounding.
    static func exact(_ value: Decimal) -> String { DecimalText.format(value) }

    /// A Double as a Decimal via its shortest decimal representation (0.1 → 0.1, not
    /// 0.1000000000000000055…).
    static func decimal(_ value: Double) -> Decimal {
        value.isFinite ? Decimal(string: "\(value)") ?? 0 : 0
    }

    /// A Double to `digits` significant digits, as a plain decimal figure (`0.09`, not
    /// `0.09000000000000001`; no exponent).
    static func significant(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        let text = String(cFormat: "%.\(digits)g", value)
        return Decimal(string: text).map { DecimalText.format($0) } ?? text
    }

    /// A Decimal as a Double, for statistics.
    static func double(_ value: Decimal) -> Double { DecimalMath.double(value) }

    /// A decimal with exactly `places` decimals.
    static func fixed(_ value: Decimal, places: Int, grouped: Bool) -> String {
        DecimalText.fixed(value, places: places, grouped: grouped)
    }
}
