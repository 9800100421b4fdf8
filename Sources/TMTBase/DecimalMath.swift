import FoundationEssentials

/// What the services need of `Decimal` beyond arithmetic, from its public representation (a
/// 128-bit mantissa in eight 16-bit words, a power-of-ten exponent, a sign): rounding to a
/// number of decimals, the nearest `Double`, and the mantissa as integers.
///
/// Foundation's `NSDecimalRound` and `NSDecimalNumber` live in the full Foundation library, whose
/// loading (with its ICU dependency) cost every service ~7 MB of resident memory; the services
/// use FoundationEssentials instead. The tests check these against Foundation's answers.
public enum DecimalMath {
    /// The parts of a decimal as swift-foundation stores them (20 bytes: the exponent, a byte of
    /// length and flags — length in the high four bits, then negative, then compact — two
    /// reserved bytes, and the mantissa as eight little-endian 16-bit words). FoundationEssentials
    /// keeps its accessors for these internal; `layoutVerified` checks the reading against known
    /// values once, and the tests check it against Foundation's public accessors.
    struct Parts {
        var exponent: Int
        var length: Int
        var negative: Bool
        var high: UInt64
        var low: UInt64
    }

    @inline(__always)
    static func parts(_ d: Decimal) -> Parts {
        withUnsafeBytes(of: d) { b in
            let flags = b[1]
            return Parts(exponent: Int(Int8(bitPattern: b[0])), length: Int(flags >> 4), negative: flags & 0x08 != 0,
                         high: b.loadUnaligned(fromByteOffset: 12, as: UInt64.self), low: b.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
        }
    }

    /// A decimal from a 128-bit mantissa, an exponent (−128…127) and a sign, compact.
    static func make(high: UInt64, low: UInt64, exponent: Int, negative: Bool) -> Decimal {
        var length = 0
        for w in 0..<8 where (w < 4 ? low >> (16 * w) : high >> (16 * (w - 4))) & 0xFFFF != 0 { length = w + 1 }
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes[0] = UInt8(bitPattern: Int8(exponent))
        bytes[1] = length == 0 ? 0 : UInt8(length) << 4 | (negative ? 0x08 : 0) | 0x04
        withUnsafeBytes(of: low.littleEndian) { for i in 0..<8 { bytes[4 + i] = $0[i] } }
        withUnsafeBytes(of: high.littleEndian) { for i in 0..<8 { bytes[12 + i] = $0[i] } }
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: Decimal.self) }
    }

    /// Whether `parts` and `make` read and write decimals as this Foundation stores them: checked
    /// once per process before the first use; a mismatch stops the process (a wrong reading would
    /// corrupt every figure).
    static let layoutVerified: Bool = {
        let checks: [(String, Parts)] = [("-1.25", Parts(exponent: -2, length: 1, negative: true, high: 0, low: 125)),
                                         ("0.00001", Parts(exponent: -5, length: 1, negative: false, high: 0, low: 1)),
                                         ("18446744073709551616", Parts(exponent: 0, length: 5, negative: false, high: 1, low: 0))]
        for (text, expected) in checks {
            guard let d = Decimal(string: text), MemoryLayout<Decimal>.size == 20 else { return false }
            let p = parts(d)
            guard p.exponent == expected.exponent, p.length == expected.length, p.negative == expected.negative,
                  p.high == expected.high, p.low == expected.low,
                  make(high: p.high, low: p.low, exponent: p.exponent, negative: p.negative) == d else {
                fatalError("DecimalMath: this Foundation stores Decimal differently (\(text) read as \(p)); rebuild against a supported toolchain")
            }
        }
        return true
    }()

    /// The mantissa as a 128-bit integer (high and low 64 bits), nil for NaN.
    public static func mantissa(_ d: Decimal) -> (high: UInt64, low: UInt64)? { mantissa(of: verifiedParts(d)) }

    /// `parts(d)`, once the layout is known to be read right.
    @inline(__always)
    static func verifiedParts(_ d: Decimal) -> Parts {
        precondition(layoutVerified)
        return parts(d)
    }

    /// The mantissa of already-read parts, nil for NaN.
    @inline(__always)
    static func mantissa(of p: Parts) -> (high: UInt64, low: UInt64)? {
        if p.length == 0 { return p.negative ? nil : (0, 0) }
        return (p.high, p.low)
    }

    private static let exactPowers: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { a, _ in a * 10 } }

    /// The nearest `Double` (NaN for NaN), correctly rounded: directly when the mantissa has at
    /// most 53 bits and the exponent is within ±22 (prices, money: one exact operand and one
    /// correctly rounded multiplication or division), else from the decimal digits (`strtod`).
    public static func double(_ d: Decimal) -> Double {
        let p = verifiedParts(d)
        guard let (high, low) = mantissa(of: p) else { return .nan }
        if high == 0, low <= 1 << 53, abs(p.exponent) <= 22 {
            let m = Double(low)
            let v = p.exponent >= 0 ? m * exactPowers[p.exponent] : m / exactPowers[-p.exponent]
            return p.negative ? -v : v
        }
        return Double(DecimalText.format(d)) ?? .nan
    }

    /// The value as a `UInt64` when it is a whole number in range, else nil.
    public static func uint64(_ d: Decimal) -> UInt64? {
        let p = verifiedParts(d)
        guard !p.negative || p.length == 0, let (high, low) = mantissa(of: p), high == 0 else { return nil }
        var v = low
        if p.exponent < 0 {
            // Whole only if the dropped digits are zeros (2.0 stored as 20 × 10⁻¹).
            for _ in 0..<(-p.exponent) {
                let (q, r) = v.quotientAndRemainder(dividingBy: 10)
                guard r == 0 else { return nil }
                v = q
            }
            return v
        }
        for _ in 0..<p.exponent {
            let (p, o) = v.multipliedReportingOverflow(by: 10)
            if o { return nil }
            v = p
        }
        return v
    }

    /// `value` rounded to `scale` decimals (negative: to tens, hundreds, …) with `mode`, as
    /// `NSDecimalRound` does: `.plain` half away from zero, `.bankers` half to even, `.down`
    /// toward −∞, `.up` toward +∞. A value with no more decimals than `scale` is returned as it is.
    public static func round(_ value: Decimal, scale: Int, _ mode: Decimal.RoundingMode) -> Decimal {
        let p = verifiedParts(value)
        guard let (high, low) = mantissa(of: p) else { return value }
        let drop = -scale - p.exponent
        guard drop > 0 else { return value }
        let negative = p.negative
        if high == 0, low == 0 { return value }
        var (qh, ql) = (high, low)
        var first: UInt64 = 0
        var sticky = false
        // Divide by ten `drop` times, keeping the last digit dropped and whether any before it
        // was non-zero. Past 39 digits everything is dropped.
        for _ in 0..<min(drop, 40) {
            if first != 0 { sticky = true }
            let (q1, r1) = qh.quotientAndRemainder(dividingBy: 10)
            let (q0, r0) = UInt64(10).dividingFullWidth((r1, ql))
            (qh, ql, first) = (q1, q0, r0)
        }
        if drop > 40, first != 0 || qh != 0 || ql != 0 { sticky = true }
        let up: Bool
        switch mode {
        case .plain: up = first >= 5
        case .bankers: up = first > 5 || (first == 5 && (sticky || ql & 1 == 1))
        case .down: up = negative && (first != 0 || sticky)
        case .up: up = !negative && (first != 0 || sticky)
        @unknown default: up = first >= 5
        }
        if up {
            let (s, o) = ql.addingReportingOverflow(1)
            ql = s
            if o { qh &+= 1 }
        }
        return compact(high: qh, low: ql, exponent: -scale, negative: negative)
    }

    /// Strips trailing zeros from the mantissa (raising the exponent), as Foundation's rounding
    /// leaves its results.
    static func compact(high: UInt64, low: UInt64, exponent: Int, negative: Bool) -> Decimal {
        if high == 0, low == 0 { return Decimal(0) }
        var (h, l, e) = (high, low, exponent)
        while true {
            let (q1, r1) = h.quotientAndRemainder(dividingBy: 10)
            let (q0, r0) = UInt64(10).dividingFullWidth((r1, l))
            guard r0 == 0, e < 127 else { break }
            (h, l, e) = (q1, q0, e + 1)
        }
        return make(high: h, low: l, exponent: e, negative: negative)
    }
}
