import TMTBase

/// Exact decimal helpers shared by the execution core. Every rounding the core does goes
/// through here, so the rounding rules stay in one place.
enum ExecutionMath {
    /// `value` rounded to `scale` decimal places with `mode` (banker's rounding by default:
    /// halves go to the even neighbour, so rounding errors do not drift one way over many fills).
    static func round(_ value: Decimal, scale: Int, _ mode: Decimal.RoundingMode = .bankers) -> Decimal {
        DecimalMath.round(value, scale: scale, mode)
    }

    /// The largest multiple of `step` that is ≤ `value` (for non-negative values).
    static func floor(_ value: Decimal, step: Decimal) -> Decimal {
        guard step > 0 else { return value }
        return round(value / step, scale: 0, .down) * step
    }

    /// |value|.
    static func abs(_ value: Decimal) -> Decimal { value < 0 ? -value : value }

    /// −1, 0 or +1.
    static func sign(_ value: Decimal) -> Decimal { value > 0 ? 1 : (value < 0 ? -1 : 0) }

    /// The smallest price increment for `precision` decimal places: 0.00001 for 5.
    static func point(precision: Int) -> Decimal { Decimal(sign: .plus, exponent: -precision, significand: 1) }

    /// For statistics only (ratios, exponents); never for a price or an amount.
    static func double(_ value: Decimal) -> Double { DecimalMath.double(value) }
}

/// Locale-independent figures for decisions, so a detail reads the same on every machine and
/// tests can assert it.
enum ExecutionFormat {
    /// `10839.9492` → `10,839.95 USD` (display only: half away from zero to cents).
    static func money(_ value: Decimal, _ currency: String) -> String {
        "\(fixed(value, places: 2, grouped: true)) \(currency)"
    }

    /// A price with exactly the instrument's decimals: `1.0851` at 5 → `1.08510`.
    static func price(_ value: Decimal, precision: Int) -> String { fixed(value, places: precision, grouped: false) }

    /// An exact decimal, unrounded (lots, rates, raw amounts).
    static func exact(_ value: Decimal) -> String { "\(value)" }

    /// A decimal with exactly `places` decimals.
    static func fixed(_ value: Decimal, places: Int, grouped: Bool) -> String {
        DecimalText.fixed(value, places: places, grouped: grouped)
    }

    /// Milliseconds with one decimal from µs: `41234` → `41.2`.
    static func milliseconds(micros: Int64) -> String {
        fixed(Decimal(micros) / 1000, places: 1, grouped: false)
    }
}
