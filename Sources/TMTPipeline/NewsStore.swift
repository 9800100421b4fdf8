import TMTBase
import TMTCore
import TMTTrading

/// The news calendar in the trading database: the data generator writes the releases it
/// simulates; the compliance engine reads them for its blackout rule.
public struct NewsStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Inserts the calendar's events (existing ids are left as they are).
    @discardableResult
    public func save(_ calendar: NewsCalendar) throws -> Int {
        guard !calendar.events.isEmpty else { return 0 }
        return try pool.executeBatch("""
            INSERT INTO news_events (id, time, currency, title, impact) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (id) DO NOTHING
            """, calendar.events.map { e in
                [e.id, Date(timeIntervalSince1970: Double(e.time) / 1e6), e.currency, e.title, e.impact] as [any PostgresEncodable]
            })
    }

    /// The releases between two instants (µs since the epoch).
    public func calendar(fromMicros: Int64, toMicros: Int64) throws -> NewsCalendar {
        let rows = try pool.query("SELECT id, time, currency, title, impact FROM news_events WHERE time >= $1 AND time < $2 ORDER BY time",
                                  [Date(timeIntervalSince1970: Double(fromMicros) / 1e6), Date(timeIntervalSince1970: Double(toMicros) / 1e6)])
        return NewsCalendar(events: try rows.map { r in
            NewsEvent(id: try r.decode(String.self, column: "id"),
                      time: Int64((try r.decode(Date.self, column: "time").timeIntervalSince1970 * 1e6).rounded()),
                      currency: try r.decode(String.self, column: "currency"), title: try r.decode(String.self, column: "title"),
                      impact: try r.decode(String.self, column: "impact"))
        })
    }
}
