import Dispatch
import FoundationEssentials
import Glibc

/// An IANA time zone read from the system's tz database (the TZif files of Debian's `tzdata`
/// under /usr/share/zoneinfo, or `TZDIR`), with the wall-clock arithmetic the trading rules need:
/// a local date and time of an instant, and the instant of a local date and time.
///
/// Foundation's `TimeZone` and `Calendar` answer the same questions through ICU, and the first
/// use of either made every service map ~4 MB more of ICU's data (measured per process); the
/// rules only need offsets from the tz database. The answers match Foundation's, which the tests
/// check over thousands of instants in zones with both kinds of daylight-saving change:
/// - a local time that occurs twice (clocks go back) is the first occurrence;
/// - a local time that does not exist (clocks go forward) is, with `.shiftedByGap`, moved
///   forward by the length of the gap (02:30 → 03:30, as `Calendar.date(from:)` does), and with
///   `.firstAfterGap`, the first instant after it (03:00, as `Calendar.date(bySettingHour:…)`).
///
/// After the last transition in the file (2037 in Debian's files) the zone's POSIX rule (the
/// file's footer) gives the offset.
public struct ZoneInfo: Sendable, Hashable, CustomStringConvertible {
    /// The IANA name the zone was loaded as (`UTC` for the built-in zone).
    public let identifier: String
    /// Transition instants, seconds since the epoch, ascending.
    private let transitions: [Int64]
    /// The UTC offset in seconds in force from each transition on.
    private let offsets: [Int32]
    /// The offset before the first transition.
    private let initialOffset: Int32
    /// The rule after the last transition, nil for "the last offset stays".
    private let rule: PosixRule?

    /// UTC (also `GMT`, `Etc/UTC`, …: no file needed).
    public static let utc = ZoneInfo(identifier: "UTC", transitions: [], offsets: [], initialOffset: 0, rule: nil)

    /// How a local time that does not exist is resolved.
    public enum GapPolicy: Sendable {
        /// Moved forward by the gap's length (`Calendar.date(from:)`).
        case shiftedByGap
        /// The first instant after the gap (`Calendar.date(bySettingHour:minute:second:of:)`).
        case firstAfterGap
    }

    private init(identifier: String, transitions: [Int64], offsets: [Int32], initialOffset: Int32, rule: PosixRule?) {
        self.identifier = identifier
        self.transitions = transitions
        self.offsets = offsets
        self.initialOffset = initialOffset
        self.rule = rule
    }

    /// The zone named `identifier` from the tz database, nil when there is no such zone (or no
    /// database). Loaded once per name per process.
    public init?(identifier: String) {
        if Self.utcNames.contains(identifier) {
            self = ZoneInfo(identifier: identifier, transitions: [], offsets: [], initialOffset: 0, rule: nil)
            return
        }
        guard let zone = Self.cache.withLock({ cache -> ZoneInfo?? in cache[identifier] }) ?? Self.loadAndCache(identifier) else { return nil }
        self = zone
    }

    /// Where the tz database is read from: `TZDIR`, else /usr/share/zoneinfo.
    public static var databaseDirectory: String {
        ProcessInfo.processInfo.environment["TZDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/zoneinfo"
    }

    private static let utcNames: Set<String> = ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu", "Z"]
    private static let cache = Locked<[String: ZoneInfo?]>([:])

    private static func loadAndCache(_ identifier: String) -> ZoneInfo? {
        // A name is a relative path of letters, digits, '_', '-', '+' and '/' segments: nothing
        // that could leave the database folder.
        let allowed = identifier.utf8.allSatisfy { b in
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D || b == 0x2B || b == 0x2F
        }
        var zone: ZoneInfo?
        if allowed, !identifier.isEmpty, !identifier.hasPrefix("/"), !identifier.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
           let data = FileManager.default.contents(atPath: "\(databaseDirectory)/\(identifier)") {
            zone = try? parse(Array(data), identifier: identifier)
        }
        cache.withLock { $0[identifier] = .some(zone) }
        return zone
    }

    /// Reads a TZif file (RFC 8536, versions 1–4): the 64-bit block and footer when present.
    static func parse(_ bytes: [UInt8], identifier: String) throws -> ZoneInfo {
        struct Bad: Error {}
        var i = 0
        func u32() throws -> UInt32 {
            guard i + 4 <= bytes.count else { throw Bad() }
            defer { i += 4 }
            return UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
        }
        func i64() throws -> Int64 {
            let hi = UInt64(try u32()), lo = UInt64(try u32())
            return Int64(bitPattern: hi << 32 | lo)
        }
        func header() throws -> (version: UInt8, isut: Int, isstd: Int, leap: Int, time: Int, type: Int, char: Int) {
            guard i + 44 <= bytes.count, bytes[i] == 0x54, bytes[i + 1] == 0x5A, bytes[i + 2] == 0x69, bytes[i + 3] == 0x66 else { throw Bad() }
            let version = bytes[i + 4]
            i += 20
            return (version, Int(try u32()), Int(try u32()), Int(try u32()), Int(try u32()), Int(try u32()), Int(try u32()))
        }
        let v1 = try header()
        var h = v1
        var timeSize = 4
        if v1.version >= 0x32 {  // '2': skip the 32-bit block, read the 64-bit one
            i += v1.time * 4 + v1.time + v1.type * 6 + v1.char + v1.leap * 8 + v1.isstd + v1.isut
            h = try header()
            timeSize = 8
        }
        guard h.type > 0 else { throw Bad() }
        var times: [Int64] = []
        times.reserveCapacity(h.time)
        for _ in 0..<h.time { times.append(timeSize == 8 ? try i64() : Int64(Int32(bitPattern: try u32()))) }
        guard i + h.time <= bytes.count else { throw Bad() }
        let indices = bytes[i..<(i + h.time)].map(Int.init)
        i += h.time
        var typeOffsets: [Int32] = []
        for _ in 0..<h.type {
            typeOffsets.append(Int32(bitPattern: try u32()))
            i += 2  // isdst, desigidx
        }
        guard indices.allSatisfy({ $0 < typeOffsets.count }) else { throw Bad() }
        i += h.char + h.leap * (timeSize + 4) + h.isstd + h.isut
        var rule: PosixRule?
        if timeSize == 8, i < bytes.count, bytes[i] == 0x0A, let end = bytes[(i + 1)...].firstIndex(of: 0x0A) {
            let text = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
            if !text.isEmpty {
                guard let r = PosixRule(text) else { throw Bad() }
                rule = r
            }
        }
        return ZoneInfo(identifier: identifier, transitions: times, offsets: indices.map { typeOffsets[$0] },
                        initialOffset: typeOffsets[0], rule: rule)
    }

    public var description: String { identifier }

    /// Zones are equal when they have the same name.
    public static func == (a: ZoneInfo, b: ZoneInfo) -> Bool { a.identifier == b.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }

    /// Whether this is UTC under one of its names.
    public var isUTC: Bool { Self.utcNames.contains(identifier) }

    // MARK: - Offsets

    /// The UTC offset in seconds (east positive) in force at `seconds` since the epoch.
    public func offset(atEpochSeconds seconds: Int64) -> Int {
        if let last = transitions.last, seconds >= last, let rule { return rule.offset(at: seconds) }
        // The last transition at or before `seconds`.
        var lo = 0, hi = transitions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if transitions[mid] <= seconds { lo = mid + 1 } else { hi = mid }
        }
        return Int(lo == 0 ? initialOffset : offsets[lo - 1])
    }

    /// The UTC offset in seconds in force at `date`.
    public func secondsFromGMT(for date: Date) -> Int { offset(atEpochSeconds: Self.floorSeconds(date)) }

    // MARK: - Wall clock

    /// A local calendar date and time of day.
    public struct LocalTime: Sendable, Equatable {
        public var year: Int
        public var month: Int
        public var day: Int
        public var hour: Int
        public var minute: Int
        public var second: Int
        /// The fraction of the second, 0 ≤ f < 1.
        public var fraction: Double
        /// 1 = Sunday … 7 = Saturday (Calendar's numbering).
        public var weekday: Int

        /// The date as `CivilDate`.
        public var date: CivilDate { CivilDate(year: year, month: month, day: day) }
        /// Seconds since local midnight, with the fraction.
        public var secondOfDay: Double { Double(hour * 3600 + minute * 60 + second) + fraction }
    }

    /// The local date and time at `date`.
    public func local(_ date: Date) -> LocalTime {
        let whole = Self.floorSeconds(date)
        let fraction = date.timeIntervalSince1970 - Double(whole)
        let local = whole + Int64(offset(atEpochSeconds: whole))
        let days = Self.floorDiv(local, 86_400)
        let secondOfDay = Int(local - days * 86_400)
        let civil = CivilDate(daysSinceEpoch: days)
        return LocalTime(year: civil.year, month: civil.month, day: civil.day, hour: secondOfDay / 3600, minute: secondOfDay % 3600 / 60,
                         second: secondOfDay % 60, fraction: max(0, min(fraction, 0.999_999_999)), weekday: civil.weekday)
    }

    /// The instant of the local `date` at `secondOfDay` seconds after its midnight (0…86,399).
    /// A time that occurs twice is its first occurrence; one that does not exist is resolved by
    /// `gap`.
    public func instant(_ date: CivilDate, secondOfDay: Int, gap: GapPolicy = .shiftedByGap) -> Date {
        Date(timeIntervalSince1970: Double(epochSeconds(date, secondOfDay: secondOfDay, gap: gap)))
    }

    /// `instant(_:secondOfDay:gap:)` in seconds since the epoch.
    public func epochSeconds(_ date: CivilDate, secondOfDay: Int, gap: GapPolicy = .shiftedByGap) -> Int64 {
        let wall = date.daysSinceEpoch * 86_400 + Int64(secondOfDay)
        // Every offset that could be in force near this wall time: those two days either side
        // (no zone changes offset twice within two days) and the ones they point at.
        var candidates: [Int64] = []
        for probe in [wall - 172_800, wall + 172_800, wall] {
            let o = Int64(offset(atEpochSeconds: probe))
            if !candidates.contains(o) { candidates.append(o) }
            let o2 = Int64(offset(atEpochSeconds: wall - o))
            if !candidates.contains(o2) { candidates.append(o2) }
        }
        let valid = candidates.map { wall - $0 }.filter { u in Int64(offset(atEpochSeconds: u)) == wall - u }
        if let first = valid.min() { return first }
        // In a gap: the offset before the change puts the wall time after it, by the gap's length.
        let shifted = candidates.map { wall - $0 }.max() ?? wall
        switch gap {
        case .shiftedByGap:
            return shifted
        case .firstAfterGap:
            // The change itself: the last instant whose offset differs from the shifted one's, + 1.
            let after = Int64(offset(atEpochSeconds: shifted))
            var lo = shifted - 172_800, hi = shifted  // offset(lo) != after, offset(hi) == after
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2
                if Int64(offset(atEpochSeconds: mid)) == after { hi = mid } else { lo = mid }
            }
            return hi
        }
    }

    /// The first instant of the local `date` (its midnight, or the end of a gap over midnight).
    public func startOfDay(_ date: CivilDate) -> Date { instant(date, secondOfDay: 0, gap: .firstAfterGap) }

    static func floorSeconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
}

/// A proleptic Gregorian calendar date, with day arithmetic (Howard Hinnant's algorithms).
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days after 1970-01-01.
    public init(daysSinceEpoch days: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), month: Int(m), day: Int(d))
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 1 = Sunday … 7 = Saturday.
    public var weekday: Int {
        let r = (daysSinceEpoch + 4) % 7   // 1970-01-01 was a Thursday
        return Int(r < 0 ? r + 7 : r) + 1
    }

    /// The date `days` days later (earlier when negative).
    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + Int64(days)) }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
}

/// A POSIX TZ rule (`EST5EDT,M3.2.0,M11.1.0`, `<-04>4<-03>,M9.1.6/24,M4.1.6/24`,
/// `IST-1GMT0,M10.5.0,M3.5.0/1`): the offsets after a TZif file's last transition.
struct PosixRule: Sendable, Hashable {
    /// UTC offsets in seconds (east positive).
    var standard: Int
    var daylight: Int?
    var start: Transition?
    var end: Transition?

    /// When in the year daylight time starts or ends, in the local time then in force.
    struct Transition: Sendable, Hashable {
        enum Day: Sendable, Hashable {
            /// `Mm.w.d`: weekday d (0 = Sunday) of week w (5 = last) of month m.
            case monthWeekDay(month: Int, week: Int, weekday: Int)
            /// `Jn`: day n of the year, 1…365, February 29 never counted.
            case julianNoLeap(Int)
            /// `n`: day n of the year, 0…365, February 29 counted.
            case zeroBased(Int)
        }
        var day: Day
        /// Seconds after local midnight (may be negative or past 24 h).
        var time: Int

        /// The wall-clock second (seconds since the epoch, as if local time were UTC) of this
        /// transition in `year`.
        func wallSeconds(in year: Int) -> Int64 {
            let date: CivilDate
            switch day {
            case let .monthWeekDay(month, week, weekday):
                let first = CivilDate(year: year, month: month, day: 1)
                var d = 1 + (weekday - (first.weekday - 1) + 7) % 7 + (week - 1) * 7
                let length = CivilDate(year: month == 12 ? year + 1 : year, month: month == 12 ? 1 : month + 1, day: 1).daysSinceEpoch
                    - first.daysSinceEpoch
                while d > length { d -= 7 }
                date = CivilDate(year: year, month: month, day: d)
            case let .julianNoLeap(n):
                let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
                date = CivilDate(year: year, month: 1, day: 1).adding(days: n - 1 + (leap && n >= 60 ? 1 : 0))
            case let .zeroBased(n):
                date = CivilDate(year: year, month: 1, day: 1).adding(days: n)
            }
            return date.daysSinceEpoch * 86_400 + Int64(time)
        }
    }

    init?(_ text: String) {
        var s = Substring(text)
        func name() -> Bool {
            if s.first == "<" {
                guard let close = s.firstIndex(of: ">") else { return false }
                s = s[s.index(after: close)...]
                return true
            }
            let letters = s.prefix { $0.isLetter }
            guard letters.count >= 3 else { return false }
            s = s.dropFirst(letters.count)
            return true
        }
        /// `[+-]hh[:mm[:ss]]` in seconds.
        func clock() -> Int? {
            var sign = 1
            if s.first == "+" { s = s.dropFirst() } else if s.first == "-" { sign = -1; s = s.dropFirst() }
            var parts: [Int] = []
            while parts.count < 3 {
                let digits = s.prefix { $0.isNumber }
                guard !digits.isEmpty, let v = Int(digits) else { return parts.isEmpty ? nil : Self.seconds(parts) * sign }
                parts.append(v)
                s = s.dropFirst(digits.count)
                if s.first == ":" { s = s.dropFirst() } else { break }
            }
            return Self.seconds(parts) * sign
        }
        func transition() -> Transition? {
            let day: Transition.Day
            if s.first == "M" {
                s = s.dropFirst()
                let fields = s.prefix { $0.isNumber || $0 == "." }.split(separator: ".")
                guard fields.count == 3, let m = Int(fields[0]), let w = Int(fields[1]), let d = Int(fields[2]),
                      (1...12).contains(m), (1...5).contains(w), (0...6).contains(d) else { return nil }
                s = s.dropFirst(fields.map(\.count).reduce(2, +))
                day = .monthWeekDay(month: m, week: w, weekday: d)
            } else if s.first == "J" {
                s = s.dropFirst()
                let digits = s.prefix { $0.isNumber }
                guard let n = Int(digits), (1...365).contains(n) else { return nil }
                s = s.dropFirst(digits.count)
                day = .julianNoLeap(n)
            } else {
                let digits = s.prefix { $0.isNumber }
                guard let n = Int(digits), (0...365).contains(n) else { return nil }
                s = s.dropFirst(digits.count)
                day = .zeroBased(n)
            }
            var time = 7200
            if s.first == "/" {
                s = s.dropFirst()
                guard let t = clock() else { return nil }
                time = t
            }
            return Transition(day: day, time: time)
        }
        // POSIX offsets are west positive: "EST5" is UTC−5.
        guard name(), let std = clock() else { return nil }
        standard = -std
        if s.isEmpty { return }
        guard name() else { return nil }
        if s.first != ",", !s.isEmpty {
            guard let dst = clock() else { return nil }
            daylight = -dst
        } else {
            daylight = standard + 3600
        }
        if s.isEmpty {
            // No rule: US rules by POSIX default are not assumed; daylight time never applies.
            daylight = nil
            return
        }
        guard s.first == "," else { return nil }
        s = s.dropFirst()
        guard let a = transition(), s.first == "," else { return nil }
        s = s.dropFirst()
        guard let b = transition(), s.isEmpty else { return nil }
        start = a
        end = b
    }

    private static func seconds(_ parts: [Int]) -> Int {
        (parts.count > 0 ? parts[0] * 3600 : 0) + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0)
    }

    func offset(at seconds: Int64) -> Int {
        guard let daylight, let start, let end else { return standard }
        let year = CivilDate(daysSinceEpoch: ZoneInfo.floorDiv(seconds + Int64(standard), 86_400)).year
        // Daylight time runs from each year's start (reached in standard time) to the following
        // end (reached in daylight time): the same year's in the northern hemisphere, the next
        // year's in the southern one. The years around `seconds` cover rules that spill over.
        for y in (year - 1)...(year + 1) {
            let on = start.wallSeconds(in: y) - Int64(standard)
            var off = end.wallSeconds(in: y) - Int64(daylight)
            if off <= on { off = end.wallSeconds(in: y + 1) - Int64(daylight) }
            if seconds >= on && seconds < off { return daylight }
        }
        return standard
    }
}
