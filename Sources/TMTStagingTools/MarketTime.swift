import Foundation
import TMTCore

/// The market time a tool's ticks start from (`--market-time`).
public enum MarketTime {
    /// `now`, `weekday` (now, moved back to the previous Thursday at the same time of day when
    /// now falls between Friday 19:00 UTC and Monday 00:00 UTC) or an ISO 8601 instant.
    public static func parse(_ text: String, now: Date) throws -> Date {
        switch text {
        case "now": return now
        case "weekday":
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let c = utc.dateComponents([.weekday, .hour], from: now)
            // weekday: 1 Sunday … 6 Friday, 7 Saturday.
            let back: Int
            switch (c.weekday ?? 2, c.hour ?? 0) {
            case (6, let h) where h >= 19: back = 1
            case (7, _): back = 2
            case (1, _): back = 3
            default: back = 0
            }
            return now.addingTimeInterval(-Double(back) * 86_400)
        default:
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let d = f.date(from: text) ?? ISO8601DateFormatter().date(from: text) { return d }
            throw ToolUsageError("--market-time must be now, weekday or an ISO 8601 instant such as 2026-11-24T10:00:00Z, not '\(text)'")
        }
    }

    /// The stack's market time now: the newest `tmt_market_clock_seconds` of its agents (every
    /// service with a market view exports its clock); nil when none has seen a tick.
    public static func stackClock(_ endpoints: StackEndpoints) -> Date? {
        let client = HTTPClient(timeout: 3)
        let values = endpoints.agents.compactMap { agent in
            (try? MetricsScrape.fetch(agent.url, client: client))?.samples.first { $0.name == "tmt_market_clock_seconds" }?.value
        }
        return values.max().map { Date(timeIntervalSince1970: $0) }
    }

    /// `--market-time` for ticks a tool adds to a running stack. An explicit instant is taken as
    /// given. `now` and `weekday` are moved forward to the stack's market clock when it is ahead
    /// (an earlier run or a generator left it there): the stack's clocks never go back, so older
    /// ticks would never become its newest quotes and orders would wait for a fill forever.
    public static func resolve(_ text: String, endpoints: StackEndpoints, now: Date = Date()) throws -> (time: Date, note: String?) {
        let wanted = try parse(text, now: now)
        guard text == "now" || text == "weekday", let stack = stackClock(endpoints), stack.addingTimeInterval(1) > wanted else {
            return (wanted, nil)
        }
        let start = stack.addingTimeInterval(1)
        return (start, "the stack's market clock is ahead of \(text) (\(Logger.timestamp(stack))): ticks continue from it")
    }

    /// `start` moved past the news blackouts a run from it would meet: a high- or medium-impact
    /// release (the impacts the staging firms black out, ±2–5 min) within `margin` of
    /// [`start`, `start` + `span`] moves it to `margin` after that release, until none is left.
    /// Inside a blackout the compliance engine refuses every new order in the release's currency
    /// (the generator's calendar has USD releases on weekdays, and every candidate instrument
    /// is priced in USD), so a run that began there could only skip its checks. Moving forward is
    /// safe: the stack's market clock only ever moves forward anyway.
    public static func clearOfNews(_ start: Date, span: TimeInterval, margin: TimeInterval = 600,
                                   pool: PostgresPool) throws -> (time: Date, note: String?) {
        var time = start
        var passed: [String] = []
        for _ in 0..<50 {
            let rows = try pool.query("""
                SELECT title, time FROM news_events
                WHERE impact IN ('high', 'medium') AND time > $1 AND time < $2 ORDER BY time
                """, [time.addingTimeInterval(-margin), time.addingTimeInterval(span + margin)])
            guard !rows.isEmpty else { break }
            for row in rows {
                let at = try row.decode(Date.self, column: "time")
                passed.append("\(try row.decode(String.self, column: "title")) at \(Logger.timestamp(at))")
                time = at.addingTimeInterval(margin)
            }
        }
        guard !passed.isEmpty else { return (start, nil) }
        return (time, "market time moved to \(Logger.timestamp(time)), past the news blackout of \(passed.joined(separator: ", "))")
    }
}
