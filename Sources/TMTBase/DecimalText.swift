import FoundationEssentials

/// `Decimal.description`, fast.
///
/// Foundation formats a `Decimal` by dividing its 128-bit mantissa by ten once per digit, with an
/// array allocation each time: 3.5–6.7 µs per value on this machine, which made JSON encoding of
/// a three-account list cost more than the PostgreSQL query behind it, and the breaker's figures
/// most of its per-tick time. Here, byte for byte as `description`: a significand that fits
/// `UInt64` in ≈0.25 µs, one of 20–39 digits (quotients, squares) in groups of 19 digits by
/// 128-bit division; NaN falls back to `description`.
public enum DecimalText {
    /// The same text as `value.description`.
    public static func format(_ value: Decimal) -> String {
        var out: [UInt8] = []
        append(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value.description`'s UTF-8 bytes to `out`.
    public static func append(_ value: Decimal, to out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: value.description.utf8)
            return
        }
        let parts = DecimalMath.verifiedParts(value)
        guard let (high, low) = DecimalMath.mantissa(of: parts) else {
            out.append(contentsOf: value.description.utf8)
            return
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(40)
        if high == 0 {
            if low == 0 {
                out.append(UInt8(ascii: "0"))
                return
            }
            appendDigits(low, minimumCount: 1, to: &digits)
        } else {
            // 20–39 digits (divisions, squares): two or three groups of 19 digits, by 128-bit
            // division by 10^19.
            let p: UInt64 = 10_000_000_000_000_000_000
            let (q1, r1) = high.quotientAndRemainder(dividingBy: p)
            let (q0, r0) = p.dividingFullWidth((r1, low))
            if q1 == 0 {
                appendDigits(q0, minimumCount: 1, to: &digits)
            } else {
                let (top, middle) = p.dividingFullWidth((q1, q0))
                appendDigits(top, minimumCount: 1, to: &digits)
                appendDigits(middle, minimumCount: 19, to: &digits)
            }
            appendDigits(r0, minimumCount: 19, to: &digits)
        }
        if value.sign == .minus { out.append(UInt8(ascii: "-")) }
        let exponent = parts.exponent
        if exponent >= 0 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: exponent))
        } else if -exponent >= digits.count {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -exponent - digits.count))
            out.append(contentsOf: digits)
        } else {
            let point = digits.count + exponent
            out.append(contentsOf: digits[..<point])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[point...])
        }
    }
}

extension DecimalText {
    /// `value`'s decimal digits, left-padded with zeros to `minimumCount`.
    static func appendDigits(_ value: UInt64, minimumCount: Int, to out: inout [UInt8]) {
        var reversed: [UInt8] = []
        reversed.reserveCapacity(20)
        var rest = value
        repeat {
            reversed.append(UInt8(ascii: "0") &+ UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        while reversed.count < minimumCount { reversed.append(UInt8(ascii: "0")) }
        out.append(contentsOf: reversed.reversed())
    }

    /// Plain decimal text (`-1234.5600`, `.5`; no exponent, no `+`) with at most 19 significant
    /// digits, built exactly from its digits with trailing fraction zeros dropped; nil for
    /// anything else (callers then take a general parser). ~10× faster than `Decimal(string:)`.
    public static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Decimal? {
        var mantissa: UInt64 = 0
        var digits = 0, fraction = 0
        var negative = false, dot = false, sawDigit = false, first = true
        for b in text {
            if first {
                first = false
                if b == UInt8(ascii: "-") { negative = true; continue }
            }
            if b == UInt8(ascii: ".") {
                if dot { return nil }
                dot = true
                continue
            }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            sawDigit = true
            let v = UInt64(b &- UInt8(ascii: "0"))
            if dot { fraction += 1 }
            if mantissa == 0, v == 0 { continue }
            guard digits < 19 else { return nil }
            mantissa = mantissa &* 10 &+ v
            digits += 1
        }
        guard sawDigit else { return nil }
        if mantissa == 0 { return Decimal(0) }
        while fraction > 0, mantissa % 10 == 0 {
            mantissa /= 10
            fraction -= 1
        }
        return Decimal(sign: negative ? .minus : .plus, exponent: -fraction, significand: Decimal(mantissa))
    }

    /// `value` rounded half-up (`.plain`) to `scale` decimals.
    public static func round(_ value: Decimal, _ scale: Int) -> Decimal {
        DecimalMath.round(value, scale: scale, .plain)
    }

    /// A decimal with exactly `places` decimals (half-up), optionally with thousands separators:
    /// `fixed(4120.5, places: 2, grouped: true)` → `4,120.50`. For the figures the cores put in
    /// decisions and logs, so every agent formats money and prices alike.
    public static func fixed(_ value: Decimal, places: Int, grouped: Bool) -> String {
        let r = round(value, places)
        let negative = r < 0
        let text = format(negative ? -r : r)
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

extension Decimal {
    /// `self / 100`, exactly, by moving the decimal point instead of a long division (which
    /// costs about a microsecond): for "percent of" amounts on read paths.
    public var hundredth: Decimal {
        guard isFinite, exponent > -126 else { return self / 100 }
        return Decimal(sign: sign, exponent: exponent - 2, significand: significand)
    }
}
