import TMTBase
import TMTCore
import TMTTrading

/// Writes and reads bars in the market database. Writes are idempotent (a redelivered tick that
/// closes the same bar rewrites the same row), so the consumer can commit after the write.
public struct BarStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    private static let upsert = """
    INSERT INTO bars (instrument, timeframe_seconds, start_time, open, high, low, close, volume, tick_count)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (instrument, timeframe_seconds, start_time) DO UPDATE
    SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
        volume = EXCLUDED.volume, tick_count = EXCLUDED.tick_count
    """

    /// Upserts `bars`. One bar — nearly every call, a tick closes its instrument's bar — is one
    /// autocommitted statement, one round trip (as a batch it took three: BEGIN, the statement,
    /// COMMIT, ~2 ms together under a tick burst, a third of Wyckoff's consumer thread at 300
    /// bars a second). Several are one transaction, the statements pipelined.
    public func save(_ bars: [Bar]) throws {
        func parameters(_ b: Bar) -> [any PostgresEncodable] {
            [b.instrument, b.timeframeSeconds, Date(timeIntervalSince1970: Double(b.start) / 1e6), b.open, b.high, b.low, b.close,
             b.volume, b.tickCount]
        }
        switch bars.count {
        case 0: return
        case 1: _ = try pool.execute(Self.upsert, parameters(bars[0]), prepared: true)
        default: _ = try pool.executeBatch(Self.upsert, bars.map(parameters))
        }
    }

    /// The most recent `limit` bars of an instrument and timeframe, oldest first.
    /// The `limit` bars that start before `beforeMicros` (the history as of that moment of market
    /// time: a signal's, not whatever a later run stored), newest first.
    public func recent(instrument: String, timeframeSeconds: Int, limit: Int, beforeMicros: Int64) throws -> [Bar] {
        try decode(pool.query("""
            SELECT instrument, timeframe_seconds, start_time, open, high, low, close, volume, tick_count
            FROM bars WHERE instrument = $1 AND timeframe_seconds = $2 AND start_time < $4 ORDER BY start_time DESC LIMIT $3
            """, [instrument, timeframeSeconds, limit, Date(timeIntervalSince1970: Double(beforeMicros) / 1e6)], prepared: true))
    }

    /// `recent(instrument:timeframeSeconds:limit:beforeMicros:)` for several instruments in one
    /// round trip; every instrument asked for has an entry (empty without bars), oldest first.
    public func recent(instruments: [String], timeframeSeconds: Int, limit: Int, beforeMicros: Int64) throws -> [String: [Bar]] {
        var out = Dictionary(uniqueKeysWithValues: instruments.map { ($0, [Bar]()) })
        guard !instruments.isEmpty else { return out }
        let rows = try pool.query("""
            SELECT b.instrument, b.timeframe_seconds, b.start_time, b.open, b.high, b.low, b.close, b.volume, b.tick_count
            FROM unnest($1::text[]) AS i(instrument)
            CROSS JOIN LATERAL (
                SELECT * FROM bars WHERE instrument = i.instrument AND timeframe_seconds = $2 AND start_time < $4
                ORDER BY start_time DESC LIMIT $3) b
            """, ["{" + instruments.joined(separator: ",") + "}", timeframeSeconds, limit,
                  Date(timeIntervalSince1970: Double(beforeMicros) / 1e6)], prepared: true)
        var grouped: [String: [PostgresRow]] = [:]
        for r in rows { grouped[try r.decode(String.self, column: "instrument"), default: []].append(r) }
        for (instrument, group) in grouped { out[instrument] = try decode(group) }
        return out
    }

    public func recent(instrument: String, timeframeSeconds: Int, limit: Int) throws -> [Bar] {
        try decode(pool.query("""
            SELECT instrument, timeframe_seconds, start_time, open, high, low, close, volume, tick_count
            FROM bars WHERE instrument = $1 AND timeframe_seconds = $2 ORDER BY start_time DESC LIMIT $3
            """, [instrument, timeframeSeconds, limit], prepared: true))
    }

    /// The bars that start in [`fromMicros`, `beforeMicros`), oldest first: the history leading up
    /// to a moment of market time.
    public func window(instrument: String, timeframeSeconds: Int, fromMicros: Int64, beforeMicros: Int64) throws -> [Bar] {
        try decode(pool.query("""
            SELECT instrument, timeframe_seconds, start_time, open, high, low, close, volume, tick_count
            FROM bars WHERE instrument = $1 AND timeframe_seconds = $2 AND start_time >= $3 AND start_time < $4
            ORDER BY start_time DESC
            """, [instrument, timeframeSeconds, Date(timeIntervalSince1970: Double(fromMicros) / 1e6),
                  Date(timeIntervalSince1970: Double(beforeMicros) / 1e6)], prepared: true))
    }

    /// Saves the bars a stopping process of `group` had open (`BarBuilder.openBars`), each
    /// replacing the group's saved bar of its instrument and timeframe unless that one is newer
    /// (an instance that lost the instrument's partition in a rebalance still holds an older
    /// bar, and may stop after the one that took it over); one transaction.
    public func saveOpen(_ bars: [BarBuilder.OpenBar], group: String) throws {
        guard !bars.isEmpty else { return }
        _ = try pool.executeBatch("""
            INSERT INTO open_bars (consumer_group, instrument, timeframe_seconds, start_time, open, high, low, close, volume, tick_count,
                                   last_tick_time, saved_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
            ON CONFLICT (consumer_group, instrument, timeframe_seconds) DO UPDATE
            SET start_time = EXCLUDED.start_time, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                close = EXCLUDED.close, volume = EXCLUDED.volume, tick_count = EXCLUDED.tick_count,
                last_tick_time = EXCLUDED.last_tick_time, saved_at = now()
            WHERE open_bars.last_tick_time <= EXCLUDED.last_tick_time
            """, bars.map { o in
                let b = o.bar
                return [group, b.instrument, b.timeframeSeconds, Date(micros: b.start), b.open, b.high, b.low, b.close, b.volume,
                        b.tickCount, Date(micros: o.lastTickMicros)] as [any PostgresEncodable]
            })
    }

    /// Takes (deletes and returns) `group`'s saved open bar of an instrument and timeframe, for a
    /// process whose first tick of it is at `tickMicros`. `open` is nil when none was saved, and
    /// when the saved one is of no use there and is only dropped (`dropped`): it starts after
    /// that tick (another simulation's time), or a closed bar at or after its start and before
    /// the tick is stored already (another process built that bar meanwhile).
    public func takeOpen(instrument: String, timeframeSeconds: Int, tickMicros: Int64,
                         group: String) throws -> (open: BarBuilder.OpenBar?, dropped: Bar?) {
        let rows = try pool.query("""
            DELETE FROM open_bars o WHERE consumer_group = $4 AND instrument = $1 AND timeframe_seconds = $2
            RETURNING instrument, timeframe_seconds, start_time, open, high, low, close, volume, tick_count,
                (extract(epoch FROM last_tick_time) * 1000000)::bigint AS last_tick,
                EXISTS (SELECT 1 FROM bars b WHERE b.instrument = o.instrument AND b.timeframe_seconds = o.timeframe_seconds
                        AND b.start_time >= o.start_time AND b.start_time < $3) AS superseded
            """, [instrument, timeframeSeconds, Date(micros: tickMicros), group])
        guard let row = rows.first, let bar = try decodeBars([row]).first else { return (nil, nil) }
        if try row.decode(Bool.self, column: "superseded") || bar.start > tickMicros { return (nil, bar) }
        return (BarBuilder.OpenBar(bar: bar, lastTickMicros: try row.decode(Int64.self, column: "last_tick")), nil)
    }

    private func decode(_ rows: [PostgresRow]) throws -> [Bar] { try decodeBars(rows) }

    /// Rows as bars, oldest first (sorted here: the order of rows out of a lateral join is not
    /// something SQL promises).
    func decodeBars(_ rows: [PostgresRow]) throws -> [Bar] {
        try rows.map { r in
            Bar(instrument: try r.decode(String.self, column: "instrument"),
                timeframeSeconds: try r.decode(Int.self, column: "timeframe_seconds"),
                start: Int64((try r.decode(Date.self, column: "start_time").timeIntervalSince1970 * 1e6).rounded()),
                open: try r.decode(Decimal.self, column: "open"), high: try r.decode(Decimal.self, column: "high"),
                low: try r.decode(Decimal.self, column: "low"), close: try r.decode(Decimal.self, column: "close"),
                volume: try r.decode(Decimal.self, column: "volume"), tickCount: try r.decode(Int.self, column: "tick_count"))
        }.sorted { $0.start < $1.start }
    }
}
