import TMTBase

/// One prop firm's rule set, as `config/compliance-staging.yml` describes it under `firms:`.
///
/// All amounts are derived from percentages in `Decimal`, so a limit such as 5 % of 100,000 is
/// exactly 5,000. Every limit is an inclusive bound of what is allowed ("must not exceed"): a
/// loss exactly at its limit passes, one cent over fails. Time windows (news blackout, weekend
/// cut-off) include their edges: an order exactly at the edge is inside the window.
public struct FirmRules: Sendable, Equatable {
    /// What the daily loss limit is a percentage of.
    public enum DailyLossBase: String, Sendable, CaseIterable {
        /// A fixed amount: percent × the account's initial balance (FTMO style).
        case initialBalance = "initial_balance"
        /// Percent × the start-of-day reference (`DayStartReference`), so the amount moves daily.
        case startOfDay = "start_of_day"
    }

    /// The start-of-day level the day's loss is measured from.
    public enum DayStartReference: String, Sendable, CaseIterable {
        /// Balance at the firm's midnight (open P&L carried over does not lift the reference).
        case balance
        /// Equity at the firm's midnight.
        case equity
        /// The higher of the two, the strictest common reading.
        case higherOfBalanceAndEquity = "higher_of_balance_and_equity"
    }

    /// How the maximum (overall) loss floor is set.
    public enum MaxLossMode: String, Sendable, CaseIterable {
        /// Floor = initial balance − percent × initial balance, for the account's whole life.
        case `static`
        /// Floor = equity high-water mark − percent × initial balance: it rises with new equity
        /// highs and never falls.
        case trailing
    }

    /// A local wall-clock time, `HH:MM`.
    public struct TimeOfDay: Sendable, Equatable, CustomStringConvertible {
        /// 0…23.
        public var hour: Int
        /// 0…59.
        public var minute: Int

        public init(hour: Int, minute: Int) {
            self.hour = hour
            self.minute = minute
        }

        /// Parses `HH:MM` (24-hour); nil when malformed or out of range.
        public init?(parsing text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
                  let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m) else { return nil }
            self.init(hour: h, minute: m)
        }

        /// 00:00.
        public static let midnight = TimeOfDay(hour: 0, minute: 0)

        /// Seconds after midnight.
        public var secondOfDay: Int { hour * 3600 + minute * 60 }

        public var description: String {
            (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
        }
    }

    /// No new risk within ± `minutes` of a scheduled release in one of the order's currencies.
    public struct NewsBlackout: Sendable, Equatable {
        /// Half-width of the window in minutes (the window is [release − N, release + N]).
        public var minutes: Int
        /// Impact levels that trigger the blackout (`high`, `medium`); default `high` only.
        public var impacts: Set<String>

        public init(minutes: Int, impacts: Set<String> = ["high"]) {
            self.minutes = minutes
            self.impacts = impacts
        }
    }

    /// No new positions from a weekly cut-off (e.g. Friday 21:00 UTC) until the market
    /// reopens (e.g. Sunday 21:00 UTC); optionally the account must be flat by a deadline.
    public struct WeekendCutoff: Sendable, Equatable {
        /// Weekday of the cut-off, Calendar numbering (1 = Sunday … 6 = Friday, 7 = Saturday).
        public var weekday: Int
        /// Local time of the cut-off in `timeZone`.
        public var time: TimeOfDay
        /// Time zone of `time`, `flatBy` and `resumeTime`; default UTC.
        public var timeZone: ZoneInfo
        /// Weekday new positions are allowed again (default 1 = Sunday).
        public var resumeWeekday: Int
        /// Local time new positions are allowed again (default 21:00, the FX reopening).
        public var resumeTime: TimeOfDay
        /// When set, open positions must be closed by this time on the cut-off weekday
        /// (flat before the weekend); nil lets positions be held over the weekend.
        public var flatBy: TimeOfDay?

        /// Defaults: Friday, UTC, resuming Sunday 21:00, no flat deadline.
        public init(weekday: Int = 6, time: TimeOfDay, timeZone: ZoneInfo = .utc,
                    resumeWeekday: Int = 1, resumeTime: TimeOfDay = TimeOfDay(hour: 21, minute: 0), flatBy: TimeOfDay? = nil) {
            self.weekday = weekday
            self.time = time
            self.timeZone = timeZone
            self.resumeWeekday = resumeWeekday
            self.resumeTime = resumeTime
            self.flatBy = flatBy
        }

        /// The cut-off window that contains `instant` as `[cut-off, resume)`, or nil when
        /// `instant` is outside every window. The cut-off instant itself is inside ("no new
        /// positions from 21:00"), the resume instant is outside.
        public func window(containing instant: Date) -> (cutoff: Date, resume: Date)? {
            guard let cutoff = Self.latest(weekday: weekday, time: time, atOrBefore: instant, in: timeZone),
                  let resume = Self.earliest(weekday: resumeWeekday, time: resumeTime, after: cutoff, in: timeZone),
                  instant < resume else { return nil }
            return (cutoff, resume)
        }

        /// Whether an account must already be flat at `instant`: from `flatBy` on the cut-off
        /// weekday until the market resumes. False when the firm allows weekend holding.
        public func mustBeFlat(at instant: Date) -> Bool {
            guard let flatBy,
                  let deadline = Self.latest(weekday: weekday, time: flatBy, atOrBefore: instant, in: timeZone),
                  let resume = Self.earliest(weekday: resumeWeekday, time: resumeTime, after: deadline, in: timeZone) else { return false }
            return instant < resume
        }

        /// The most recent `weekday` at `time` that is not after `instant` (searching 8 days).
        static func latest(weekday: Int, time: TimeOfDay, atOrBefore instant: Date, in tz: ZoneInfo) -> Date? {
            let today = tz.local(instant).date
            for back in 0...7 {
                let day = today.adding(days: -back)
                guard day.weekday == weekday else { continue }
                let at = tz.instant(day, secondOfDay: time.secondOfDay)
                if at <= instant { return at }
            }
            return nil
        }

        /// The first `weekday` at `time` strictly after `instant`.
        static func earliest(weekday: Int, time: TimeOfDay, after instant: Date, in tz: ZoneInfo) -> Date? {
            let today = tz.local(instant).date
            for ahead in 0...7 {
                let day = today.adding(days: ahead)
                guard day.weekday == weekday else { continue }
                let at = tz.instant(day, secondOfDay: time.secondOfDay)
                if at > instant { return at }
            }
            return nil
        }
    }

    /// Key of the firm in the configuration; `Account.firm` refers to it.
    public var id: String
    /// Display name.
    public var name: String
    /// Time zone of the firm's trading day (e.g. `Europe/Prague`); the daily loss resets at
    /// `dayReset` in this zone, DST included.
    public var timeZone: ZoneInfo
    /// Local time the trading day starts; default midnight.
    public var dayReset: TimeOfDay
    /// Daily loss limit in percent (e.g. 5 = 5 %), including open P&L.
    public var dailyLossPercent: Decimal
    /// What `dailyLossPercent` is a percentage of; default the initial balance.
    public var dailyLossBase: DailyLossBase
    /// Level the day's loss counts from; default the start-of-day balance.
    public var dayStartReference: DayStartReference
    /// Maximum (overall) loss in percent of the initial balance (e.g. 10).
    public var maxLossPercent: Decimal
    /// Static or trailing floor; default static.
    public var maxLossMode: MaxLossMode
    /// Trailing only: once the floor reaches the initial balance it stops rising; default false.
    public var trailingStopsAtInitialBalance: Bool
    /// Largest order in lots.
    public var maxLotsPerOrder: Decimal
    /// Most positions (instruments with a non-zero netted quantity) open at once.
    public var maxOpenPositions: Int
    /// Every order that opens or adds risk must carry a stop-loss; default false.
    public var stopLossRequired: Bool
    /// A position must be held at least this long before it is closed (anti tick-scalping), in
    /// seconds; 0 (the default) disables the rule.
    public var minimumHoldSeconds: Int
    /// News blackout; nil when the firm has none.
    public var newsBlackout: NewsBlackout?
    /// Weekend cut-off; nil when the firm has none.
    public var weekendCutoff: WeekendCutoff?
    /// Best-day consistency: no single day's realised profit may exceed this percentage of the
    /// total realised profit; nil when the firm has no such rule.
    public var bestDayMaxPercent: Decimal?
    /// Days with at least one trade needed before a payout (informational); default 0.
    public var minimumTradingDays: Int
    /// A warning check fails once the projected daily loss reaches this percentage of its
    /// limit; default 80.
    public var dailyLossWarningPercent: Decimal
    /// A warning check fails once the projected overall drawdown reaches this percentage of
    /// its limit; default 90.
    public var maxLossWarningPercent: Decimal

    /// A rule set built in code; defaults as documented on each property (`name` defaults to `id`).
    public init(id: String, name: String? = nil, timeZone: ZoneInfo, dayReset: TimeOfDay = .midnight,
                dailyLossPercent: Decimal, dailyLossBase: DailyLossBase = .initialBalance,
                dayStartReference: DayStartReference = .balance, maxLossPercent: Decimal,
                maxLossMode: MaxLossMode = .static, trailingStopsAtInitialBalance: Bool = false,
                maxLotsPerOrder: Decimal, maxOpenPositions: Int, stopLossRequired: Bool = false,
                minimumHoldSeconds: Int = 0, newsBlackout: NewsBlackout? = nil, weekendCutoff: WeekendCutoff? = nil,
                bestDayMaxPercent: Decimal? = nil, minimumTradingDays: Int = 0,
                dailyLossWarningPercent: Decimal = 80, maxLossWarningPercent: Decimal = 90) {
        self.id = id
        self.name = name ?? id
        self.timeZone = timeZone
        self.dayReset = dayReset
        self.dailyLossPercent = dailyLossPercent
        self.dailyLossBase = dailyLossBase
        self.dayStartReference = dayStartReference
        self.maxLossPercent = maxLossPercent
        self.maxLossMode = maxLossMode
        self.trailingStopsAtInitialBalance = trailingStopsAtInitialBalance
        self.maxLotsPerOrder = maxLotsPerOrder
        self.maxOpenPositions = maxOpenPositions
        self.stopLossRequired = stopLossRequired
        self.minimumHoldSeconds = minimumHoldSeconds
        self.newsBlackout = newsBlackout
        self.weekendCutoff = weekendCutoff
        self.bestDayMaxPercent = bestDayMaxPercent
        self.minimumTradingDays = minimumTradingDays
        self.dailyLossWarningPercent = dailyLossWarningPercent
        self.maxLossWarningPercent = maxLossWarningPercent
    }

    /// The firm's trading day containing `instant` (reset at `dayReset` in `timeZone`).
    public func tradingDay(containing instant: Date) -> FirmTradingDay {
        FirmTradingDay.containing(instant, timeZone: timeZone, reset: dayReset)
    }

    /// The start-of-day reference level (balance, equity or the higher) of a day's baseline.
    public func dayStartLevel(_ start: ComplianceDayStart) -> Decimal {
        switch dayStartReference {
        case .balance: start.balance
        case .equity: start.equity
        case .higherOfBalanceAndEquity: max(start.balance, start.equity)
        }
    }

    /// The day's loss limit in account currency, exact.
    public func dailyLossLimit(initialBalance: Decimal, dayStart: ComplianceDayStart) -> Decimal {
        let base = dailyLossBase == .initialBalance ? initialBalance : dayStartLevel(dayStart)
        return (base * dailyLossPercent).hundredth
    }

    /// The overall loss floor: equity must stay at or above it. `highWaterMark` is only used
    /// by a trailing floor.
    public func maxLossFloor(initialBalance: Decimal, highWaterMark: Decimal) -> Decimal {
        let amount = (initialBalance * maxLossPercent).hundredth
        switch maxLossMode {
        case .static:
            return initialBalance - amount
        case .trailing:
            let floor = max(highWaterMark, initialBalance) - amount
            return trailingStopsAtInitialBalance ? min(floor, initialBalance) : floor
        }
    }
}
