import TMTBase

/// PostgreSQL's text formats for the types this module supports, both directions. Pure
/// functions, so they are unit-tested without a server.
enum PostgresTextFormat {
    // MARK: Timestamps

    /// `2026-01-02 03:04:05.123456+00`, rounded to the microsecond (PostgreSQL's resolution).
    /// Years before 1 AD get PostgreSQL's ` BC` suffix.
    static func timestamp(_ date: Date) -> String? {
        let t = date.timeIntervalSince1970
        guard t.isFinite else { return nil }
        let microsDouble = (t * 1_000_000).rounded()
        guard abs(microsDouble) < 9.0e18 else { return nil }
        let micros = Int64(microsDouble)
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (y, m, d) = civil(fromDays: days)
        let bc = y <= 0
        var s = pad(bc ? 1 - y : y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
        s += " " + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fraction != 0 { s += "." + pad(fraction, 6) }
        s += "+00"
        if bc { s += " BC" }
        return s
    }

    /// Parses `timestamptz`, `timestamp` (taken as UTC) and `date` (midnight UTC) output, and
    /// `infinity`/`-infinity` (as `Date.distantFuture`/`.distantPast`). Any offset is honoured.
    static func parseTimestamp(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var s = Substring(text)
        var bc = false
        if s.hasSuffix(" BC") { bc = true; s = s.dropLast(3) }
        var scanner = DigitScanner(s)
        guard let year = scanner.number(minDigits: 4), scanner.take("-"),
              let month = scanner.number(minDigits: 2, maxDigits: 2), scanner.take("-"),
              let day = scanner.number(minDigits: 2, maxDigits: 2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, micros: Int64 = 0, offset: Int64 = 0
        if !scanner.atEnd {
            guard scanner.take(" ") || scanner.take("T"),
                  let h = scanner.number(minDigits: 2, maxDigits: 2), scanner.take(":"),
                  let mi = scanner.number(minDigits: 2, maxDigits: 2), scanner.take(":"),
                  let se = scanner.number(minDigits: 2, maxDigits: 2),
                  h <= 24, mi < 60, se <= 60 else { return nil }
            hour = h; minute = mi; second = se
            if scanner.take(".") {
                guard let digits = scanner.digits(), !digits.isEmpty, digits.count <= 9 else { return nil }
                var frac = digits.prefix(6)
                while frac.count < 6 { frac += "0" }
                micros = Int64(frac) ?? 0
                if digits.count > 6, let next = digits.dropFirst(6).first, next >= "5" { micros += 1 }
            }
            if let sign = scanner.peek, sign == "+" || sign == "-" {
                _ = scanner.take(sign)
                guard let oh = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                var total = oh * 3600
                if scanner.take(":") {
                    guard let om = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                    total += om * 60
                    if scanner.take(":") {
                        guard let os = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                        total += os
                    }
                }
                offset = sign == "-" ? -total : total
            }
            guard scanner.atEnd else { return nil }
        }
        let astronomicalYear = bc ? 1 - year : year
        let days = days(fromCivil: astronomicalYear, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        let total = seconds * 1_000_000 + micros
        return Date(timeIntervalSince1970: Double(total) / 1_000_000)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (`CivilDate`: H. Hinnant's
    /// algorithm), so years outside `time_t`'s comfort zone work too.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        CivilDate(year: Int(year), month: Int(month), day: Int(day)).daysSinceEpoch
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let date = CivilDate(daysSinceEpoch: days)
        return (Int64(date.year), Int64(date.month), Int64(date.day))
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    // MARK: bytea

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `\x0001ff`: the hex format, which has no escaping pitfalls and carries zero bytes.
    static func byteaHex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(2 + bytes.count * 2)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        for b in bytes {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses bytea output in the hex format, or in the older escape format.
    static func parseBytea(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        if u.count >= 2, u[0] == UInt8(ascii: "\\"), u[1] == UInt8(ascii: "x") {
            guard u.count % 2 == 0 else { return nil }
            var out = [UInt8]()
            out.reserveCapacity((u.count - 2) / 2)
            var i = 2
            while i < u.count {
                guard let hi = hex(u[i]), let lo = hex(u[i + 1]) else { return nil }
                out.append(hi << 4 | lo)
                i += 2
            }
            return out
        }
        var out = [UInt8]()
        var i = 0
        while i < u.count {
            if u[i] != UInt8(ascii: "\\") { out.append(u[i]); i += 1; continue }
            if i + 1 < u.count, u[i + 1] == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")); i += 2; continue }
            guard i + 3 < u.count, let a = octal(u[i + 1]), let b = octal(u[i + 2]), let c = octal(u[i + 3]), a <= 3 else { return nil }
            out.append(a << 6 | b << 3 | c)
            i += 4
        }
        return out
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func octal(_ b: UInt8) -> UInt8? {
        (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(b) ? b - UInt8(ascii: "0") : nil
    }

    // MARK: Arrays

    /// A one-dimensional array literal: `{"a","b \"c\"",NULL}`. Every element is quoted, so no
    /// element text (commas, braces, the word NULL) can change the array's shape.
    static func arrayLiteral(_ elements: [String?]) -> String {
        var out = "{"
        for (i, e) in elements.enumerated() {
            if i > 0 { out += "," }
            guard let e else { out += "NULL"; continue }
            out += "\""
            for ch in e.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    /// Parses a one-dimensional array's text output. Multi-dimensional arrays are rejected.
    static func parseArray(_ text: String) -> [String?]? {
        var s = Substring(text)
        // A non-default lower bound is printed as a `[0:2]=` prefix.
        if s.hasPrefix("[") {
            guard let eq = s.firstIndex(of: "=") else { return nil }
            s = s[s.index(after: eq)...]
        }
        let u = Array(s.utf8)
        guard u.first == UInt8(ascii: "{"), u.last == UInt8(ascii: "}") else { return nil }
        var out: [String?] = []
        var i = 1
        let end = u.count - 1
        if i == end { return [] }
        while i <= end {
            while i < end, u[i] == UInt8(ascii: " ") { i += 1 }
            if u[i] == UInt8(ascii: "{") { return nil }
            if u[i] == UInt8(ascii: "\"") {
                i += 1
                var bytes: [UInt8] = []
                while true {
                    guard i < end else { return nil }
                    let b = u[i]
                    if b == UInt8(ascii: "\\") {
                        guard i + 1 < end else { return nil }
                        bytes.append(u[i + 1])
                        i += 2
                    } else if b == UInt8(ascii: "\"") {
                        i += 1
                        break
                    } else {
                        bytes.append(b)
                        i += 1
                    }
                }
                out.append(String(decoding: bytes, as: UTF8.self))
            } else {
                var bytes: [UInt8] = []
                while i < end, u[i] != UInt8(ascii: ",") {
                    if u[i] == UInt8(ascii: "\\") {
                        guard i + 1 < end else { return nil }
                        bytes.append(u[i + 1])
                        i += 2
                        continue
                    }
                    bytes.append(u[i])
                    i += 1
                }
                while let last = bytes.last, last == UInt8(ascii: " ") { bytes.removeLast() }
                let word = String(decoding: bytes, as: UTF8.self)
                out.append(word.uppercased() == "NULL" ? nil : word)
            }
            while i < end, u[i] == UInt8(ascii: " ") { i += 1 }
            if i == end { break }
            guard u[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
        return out
    }

    // MARK: Numbers

    /// The digits of a plain decimal numeral with the sign, leading zeros of the integer part
    /// and trailing zeros of the fraction removed (`-0012.3400` → `-12.34`); `nil` if the text is
    /// not a plain numeral. Two numerals are the same number iff their canonical forms match.
    static func canonicalDecimal(_ text: String) -> String? {
        var s = Substring(text)
        var negative = false
        if s.hasPrefix("-") { negative = true; s = s.dropFirst() } else if s.hasPrefix("+") { s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let intPart = parts.first, parts.count <= 2 else { return nil }
        let fracPart = parts.count == 2 ? parts[1] : ""
        guard !(intPart.isEmpty && fracPart.isEmpty),
              intPart.allSatisfy({ $0.isASCII && $0.isNumber }), fracPart.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var i = intPart.drop { $0 == "0" }
        if i.isEmpty { i = "0" }
        var f = fracPart
        while f.last == "0" { f = f.dropLast() }
        let body = f.isEmpty ? String(i) : "\(i).\(f)"
        return negative && body != "0" ? "-" + body : body
    }
}

/// A tiny cursor over ASCII digits and punctuation for the timestamp parser.
private struct DigitScanner {
    // UTF-8 bytes, not Characters: every timestamp column of every row goes through here, and
    // splitting a String into Characters cost more than the rest of the parse.
    private let bytes: [UInt8]
    private var i = 0

    init(_ s: Substring) { bytes = Array(s.utf8) }

    var atEnd: Bool { i >= bytes.count }
    var peek: Character? { atEnd ? nil : Character(Unicode.Scalar(bytes[i])) }

    mutating func take(_ c: Character) -> Bool {
        guard !atEnd, let ascii = c.asciiValue, bytes[i] == ascii else { return false }
        i += 1
        return true
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    mutating func digits() -> String? {
        let start = i
        while !atEnd, isDigit(bytes[i]) { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    mutating func number(minDigits: Int, maxDigits: Int = 9) -> Int64? {
        let start = i
        var value: Int64 = 0
        while !atEnd, isDigit(bytes[i]), i - start < maxDigits {
            value = value * 10 + Int64(bytes[i] &- UInt8(ascii: "0"))
            i += 1
        }
        // More digits than allowed, or too few: not this field.
        guard i - start >= minDigits, atEnd || !isDigit(bytes[i]) else { i = start; return nil }
        return value
    }
}
