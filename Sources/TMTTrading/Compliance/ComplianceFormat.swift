import TMTBase

/// Number and time formatting for check details: fixed, locale-independent output, so a detail
/// reads the same on every machine and tests can assert it.
enum ComplianceFormat {
    /// `value` rounded half away from zero to `scale` places.
    static func round(_ value: Decimal, _ scale: Int) -> Decimal { DecimalText.round(value, scale) }

    /// `4120.5` → `4,120.50`; negative values keep their sign.
    static func money(_ value: Decimal) -> String { fixed(value, places: 2, grouped: true) }

    /// `part / whole` in percent with one decimal, e.g. `92.4 %`; `n/a` for a zero whole.
    static func percent(_ part: Decimal, of whole: Decimal) -> String {
        guard whole != 0 else { return "n/a" }
        return fixed(part * 100 / whole, places: 1, grouped: false) + " %"
    }

    /// A percentage figure already in percent units, e.g. `5` → `5 %`, `2.5` → `2.5 %`.
    static func percentFigure(_ value: Decimal) -> String { "\(value) %" }

    /// A decimal with exactly `places` decimals.
    static func fixed(_ value: Decimal, places: Int, grouped: Bool) -> String {
        DecimalText.fixed(value, places: places, grouped: grouped)
    }

    /// Exact decimal string for figures (no rounding, no grouping).
    static func exact(_ value: Decimal) -> String { "\(value)" }

    /// A zone's name for details; Foundation on Linux reports UTC as `GMT`, which reads oddly
    /// next to a rule written in UTC.
    static func zone(_ tz: ZoneInfo) -> String {
        tz.isUTC ? "UTC" : tz.identifier
    }

    /// `2026-11-27T21:00:00Z`.
    static func utc(_ date: Date) -> String {
        let c = ZoneInfo.utc.local(date)
        return String(cFormat: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour, c.minute, c.second)
    }

    /// A duration as `1h02m03s`, `4m05s` or `12s` (whole seconds, truncated).
    static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded(.towardZero))
        let sign = s < 0 ? "-" : ""
        let a = abs(s)
        let h = a / 3600, m = (a % 3600) / 60, sec = a % 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if h > 0 { return "\(sign)\(h)h\(two(m))m\(two(sec))s" }
        if m > 0 { return "\(sign)\(m)m\(two(sec))s" }
        return "\(sign)\(sec)s"
    }
}
