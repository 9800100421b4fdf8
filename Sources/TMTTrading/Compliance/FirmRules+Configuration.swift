import TMTBase

extension FirmRules {
    static let configurationKeys: Set<String> = [
        "name", "timezone", "day_reset", "daily_loss", "max_loss", "max_lots_per_order", "max_open_positions",
        "stop_loss_required", "minimum_hold_seconds", "news_blackout", "friday_cutoff", "consistency",
        "minimum_trading_days", "warnings",
    ]

    /// Reads one firm from its mapping under `firms:`; every unknown key and bad value fails
    /// with the file, line and dotted key.
    ///
    /// ```yaml
    /// ftmo-like:
    ///   name: FTMO-like two-step
    ///   timezone: Europe/Prague          # IANA zone of the trading day
    ///   day_reset: "00:00"               # local time the day starts (default 00:00)
    ///   daily_loss:
    ///     percent: 5                     # of `of`
    ///     of: initial_balance            # initial_balance (default) | start_of_day
    ///     measured_from: balance         # balance (default) | equity | higher_of_balance_and_equity
    ///   max_loss:
    ///     percent: 10                    # of the initial balance
    ///     mode: static                   # static (default) | trailing
    ///     trailing_stops_at_initial_balance: false
    ///   max_lots_per_order: 20
    ///   max_open_positions: 10
    ///   stop_loss_required: false        # default false
    ///   minimum_hold_seconds: 0          # default 0 (no rule)
    ///   news_blackout:                   # omit for none
    ///     minutes: 2
    ///     impacts:
    ///       - high
    ///   friday_cutoff:                   # omit for none
    ///     weekday: friday                # default friday
    ///     time: "21:00"
    ///     timezone: UTC                  # default UTC
    ///     resumes_weekday: sunday        # default sunday
    ///     resumes_time: "21:00"          # default 21:00
    ///     flat_by: "20:45"               # optional: flat by then on the cut-off day
    ///   consistency:                     # omit for none
    ///     best_day_max_percent: 40
    ///   minimum_trading_days: 4          # default 0
    ///   warnings:
    ///     daily_loss_percent_of_limit: 80  # default 80
    ///     max_loss_percent_of_limit: 90    # default 90
    /// ```
    public init(id: String, node: ConfigNode) throws(YAMLError) {
        try node.allowOnly(Self.configurationKeys)
        let timeZone = try Self.timeZone(node.require("timezone"))
        let dayReset = try node.child("day_reset").map(Self.timeOfDay) ?? .midnight

        let daily = try node.require("daily_loss")
        try daily.allowOnly(["percent", "of", "measured_from"])
        let dailyPercent = try Self.percent(daily.require("percent"))
        let base = try daily.child("of").map { n throws(YAMLError) in try Self.choice(n, DailyLossBase.self) } ?? .initialBalance
        let reference = try daily.child("measured_from").map { n throws(YAMLError) in try Self.choice(n, DayStartReference.self) } ?? .balance

        let maxLoss = try node.require("max_loss")
        try maxLoss.allowOnly(["percent", "mode", "trailing_stops_at_initial_balance"])
        let maxPercent = try Self.percent(maxLoss.require("percent"))
        let maxMode = try maxLoss.child("mode").map { n throws(YAMLError) in try Self.choice(n, MaxLossMode.self) } ?? .static
        let stopsAtInitial = try maxLoss.bool("trailing_stops_at_initial_balance", default: false)
        if stopsAtInitial && maxMode != .trailing {
            throw maxLoss.error("only meaningful with mode: trailing", key: "trailing_stops_at_initial_balance",
                                line: maxLoss.child("trailing_stops_at_initial_balance")?.node.line)
        }

        let lotsNode = try node.require("max_lots_per_order")
        let maxLots = try lotsNode.asDecimal()
        guard maxLots > 0 else { throw lotsNode.error("must be greater than 0, got \(maxLots)") }
        let maxPositions = try Self.int(node.require("max_open_positions"), in: 1...1000)
        let hold = try node.child("minimum_hold_seconds").map { n throws(YAMLError) in try Self.int(n, in: 0...86_400) } ?? 0
        let tradingDays = try node.child("minimum_trading_days").map { n throws(YAMLError) in try Self.int(n, in: 0...366) } ?? 0

        var blackout: NewsBlackout?
        if let news = node.child("news_blackout") {
            try news.allowOnly(["minutes", "impacts"])
            let minutes = try Self.int(news.require("minutes"), in: 1...60)
            var impacts: Set<String> = ["high"]
            if let list = news.child("impacts") {
                impacts = []
                for item in try list.items() {
                    let impact = try item.asString()
                    guard impact == "high" || impact == "medium" else { throw item.error("expected high or medium, got '\(impact)'") }
                    impacts.insert(impact)
                }
                if impacts.isEmpty { throw list.error("at least one impact level is required") }
            }
            blackout = NewsBlackout(minutes: minutes, impacts: impacts)
        }

        var cutoff: WeekendCutoff?
        if let c = node.child("friday_cutoff") {
            try c.allowOnly(["weekday", "time", "timezone", "resumes_weekday", "resumes_time", "flat_by"])
            let weekday = try c.child("weekday").map(Self.weekday) ?? 6
            let time = try Self.timeOfDay(c.require("time"))
            let zone = try c.child("timezone").map(Self.timeZone) ?? .utc
            let resumeDay = try c.child("resumes_weekday").map(Self.weekday) ?? 1
            let resumeTime = try c.child("resumes_time").map(Self.timeOfDay) ?? TimeOfDay(hour: 21, minute: 0)
            let flatBy = try c.child("flat_by").map(Self.timeOfDay)
            cutoff = WeekendCutoff(weekday: weekday, time: time, timeZone: zone, resumeWeekday: resumeDay, resumeTime: resumeTime, flatBy: flatBy)
        }

        var bestDay: Decimal?
        if let consistency = node.child("consistency") {
            try consistency.allowOnly(["best_day_max_percent"])
            bestDay = try Self.percent(consistency.require("best_day_max_percent"))
        }

        var dailyWarning: Decimal = 80
        var maxWarning: Decimal = 90
        if let warnings = node.child("warnings") {
            try warnings.allowOnly(["daily_loss_percent_of_limit", "max_loss_percent_of_limit"])
            dailyWarning = try warnings.child("daily_loss_percent_of_limit").map(Self.percent) ?? 80
            maxWarning = try warnings.child("max_loss_percent_of_limit").map(Self.percent) ?? 90
        }

        self.init(id: id, name: try node.string("name", default: id), timeZone: timeZone, dayReset: dayReset,
                  dailyLossPercent: dailyPercent, dailyLossBase: base, dayStartReference: reference, maxLossPercent: maxPercent,
                  maxLossMode: maxMode, trailingStopsAtInitialBalance: stopsAtInitial, maxLotsPerOrder: maxLots,
                  maxOpenPositions: maxPositions, stopLossRequired: try node.bool("stop_loss_required", default: false),
                  minimumHoldSeconds: hold, newsBlackout: blackout, weekendCutoff: cutoff, bestDayMaxPercent: bestDay,
                  minimumTradingDays: tradingDays, dailyLossWarningPercent: dailyWarning, maxLossWarningPercent: maxWarning)
    }

    // MARK: - Typed values with file:line:key errors

    /// A percentage in (0, 100].
    static func percent(_ node: ConfigNode) throws(YAMLError) -> Decimal {
        let v = try node.asDecimal()
        guard v > 0 && v <= 100 else { throw node.error("expected a percentage in (0, 100], got \(v)") }
        return v
    }

    static func int(_ node: ConfigNode, in range: ClosedRange<Int>) throws(YAMLError) -> Int {
        let v = try node.asInt()
        guard range.contains(v) else { throw node.error("expected an integer in \(range.lowerBound)...\(range.upperBound), got \(v)") }
        return v
    }

    static func timeZone(_ node: ConfigNode) throws(YAMLError) -> ZoneInfo {
        let name = try node.asString()
        guard let tz = ZoneInfo(identifier: name) else {
            throw node.error("unknown time zone '\(name)' (use an IANA name like Europe/Prague; zones are read from the tz database at "
                             + "\(ZoneInfo.databaseDirectory), package tzdata, or TZDIR)")
        }
        return tz
    }

    static func timeOfDay(_ node: ConfigNode) throws(YAMLError) -> TimeOfDay {
        let text = try node.asString()
        guard let t = TimeOfDay(parsing: text) else { throw node.error("expected a time HH:MM, got '\(text)'") }
        return t
    }

    static let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    /// A weekday name, as Calendar numbering (1 = Sunday).
    static func weekday(_ node: ConfigNode) throws(YAMLError) -> Int {
        let name = try node.asString()
        guard let i = weekdays.firstIndex(of: name.lowercased()) else {
            throw node.error("expected a weekday (\(weekdays.joined(separator: ", "))), got '\(name)'")
        }
        return i + 1
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ node: ConfigNode, _ type: T.Type) throws(YAMLError) -> T where T.RawValue == String {
        let raw = try node.asString()
        guard let v = T(rawValue: raw) else {
            throw node.error("expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(raw)'")
        }
        return v
    }
}
