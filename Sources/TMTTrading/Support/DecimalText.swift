import Foundation

/// Exact decimal rounding and fixed-point text for the figures the cores put in decisions and
/// logs (`4,120.50 USD`, `1.08510`), shared so every agent formats money and prices alike.
enum DecimalText {
    /// `value` rounded half-up (`.plain`) to `scale` decimals.
    static func round(_ value: Decimal, _ scale: Int) -> Decimal {
        var v = value, r = Decimal()
        NSDecimalRound(&r, &v, scale, .plain)
        return r
    }

    /// A decimal with exactly `places` decimals (half-up), optionally with thousands separators:
    /// `fixed(4120.5, places: 2, grouped: true)` → `4,120.50`.
    static func fixed(_ value: Decimal, places: Int, grouped: Bool) -> String {
        let r = round(value, places)
        let negative = r < 0
        let text = "\(negative ? -r : r)"
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        var integer = String(parts[0])
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        while fraction.count < places { fraction += "0" }
        if grouped && integer.count > 3 {
            var out = ""
            for (i, ch) in integer.enumerated() {
                if i > 0 && (integer.count - i) % 3 == 0 { out += "," }
                out.append(ch)
            }
            integer = out
        }
        let body = places > 0 ? "\(integer).\(fraction)" : integer
        return negative && r != 0 ? "-" + body : body
    }
}
