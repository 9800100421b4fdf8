import TMTBase
import TMTCore

/// The `limit` most recent bars of several instruments before a moving moment, for a consumer
/// that asks again and again with a later moment each time (ARIA: each signal's history, 300 bars
/// of every instrument involved). The first request for an instrument reads its bars in full;
/// later ones read only the bars from `overlap` bars (default 30) before the previous moment on,
/// and merge them over the cached ones (a re-read bar replaces its cached copy).
///
/// Why the overlap: a bar is stored when its instrument's next tick closes it, so the bars just
/// before a moment may be stored after a read at that moment; re-reading the last `overlap` bars
/// catches them (and a bar rewritten there). The overlap is in market time and the writer's lag
/// in wall time: a market played 200× faster than real time covers 30 bars in 9 s, so a bar
/// stored later than that after its close (a first hop that far behind), or written further back
/// after it was read (a replay rewriting old history), is seen at the next full read, at most
/// `refreshSeconds` later.
/// A moment earlier than the cached one (a replay going back, or a signal stamped behind the
/// newest) reads in full, and leaves the cache at the later moment.
///
/// The answer equals `BarStore.recent(instruments:…)` at the same moment whenever no bar older
/// than the overlap changed since the last full read (`BarHistoryTests` holds the two equal).
public final class BarHistory: Sendable {
    public let store: BarStore
    public let timeframeSeconds: Int
    public let limit: Int
    public let overlap: Int
    public let refreshSeconds: Double

    private struct Entry: Sendable {
        /// Oldest first, every bar starting before `before`; at most `limit`.
        var bars: [Bar]
        /// The moment of the last read (µs, exclusive bound of `bars`).
        var before: Int64
        /// When it was last read in full (monotonic ns).
        var fullAt: UInt64
    }

    /// How the requests were answered, for the tests and the logs.
    public struct Reads: Sendable, Equatable {
        /// Requests with at least one instrument read in full.
        public var full: Int
        /// Requests with at least one instrument read from its last moment on.
        public var incremental: Int
        /// Bars read from the database, over all requests.
        public var bars = 0

        public init(full: Int = 0, incremental: Int = 0) {
            self.full = full
            self.incremental = incremental
        }
    }

    /// The cache and the counts, under one lock (a request holds it from planning to merging).
    private let state = Locked<(entries: [String: Entry], reads: Reads)>(([:], Reads()))

    public init(store: BarStore, timeframeSeconds: Int, limit: Int, overlap: Int = 30, refreshSeconds: Double = 60) {
        precondition(limit > 0 && overlap > 0 && refreshSeconds > 0)
        self.store = store
        self.timeframeSeconds = timeframeSeconds
        self.limit = limit
        self.overlap = overlap
        self.refreshSeconds = refreshSeconds
    }

    public var reads: Reads { state.withLock { $0.reads } }

    /// The `limit` bars of each instrument that start before `beforeMicros`, oldest first; every
    /// instrument asked for has an entry (empty without bars). At most two round trips: one for
    /// the instruments read in full, one for the rest. Requests are answered one at a time (the
    /// cache is planned, read and merged as one step; ARIA asks from one consumer thread).
    public func recent(instruments: [String], beforeMicros: Int64) throws -> [String: [Bar]] {
        try state.withLock { state in
            let now = Monotonic.nanos()
            let refreshNanos = UInt64(refreshSeconds * 1e9)
            let overlapMicros = Int64(overlap) * Int64(timeframeSeconds) * 1_000_000
            var full: [String] = [], since: [String: Int64] = [:]
            // An earlier moment than the cached one (a signal stamped behind the newest) is read
            // in full but does not replace the cache: the next later moment stays incremental.
            var back: Set<String> = []
            for instrument in Set(instruments) {
                if let e = state.entries[instrument], e.before <= beforeMicros, now &- e.fullAt < refreshNanos {
                    since[instrument] = e.before - overlapMicros
                } else {
                    full.append(instrument)
                    if let e = state.entries[instrument], e.before > beforeMicros, now &- e.fullAt < refreshNanos { back.insert(instrument) }
                }
            }
            let fresh = try store.recent(instruments: full.sorted(), timeframeSeconds: timeframeSeconds, limit: limit, beforeMicros: beforeMicros)
            let delta = try store.since(since, timeframeSeconds: timeframeSeconds, limit: limit, beforeMicros: beforeMicros)
            state.reads.full += full.isEmpty ? 0 : 1
            state.reads.incremental += since.isEmpty ? 0 : 1
            state.reads.bars += fresh.values.reduce(0) { $0 + $1.count } + delta.values.reduce(0) { $0 + $1.count }
            var answer: [String: [Bar]] = [:]
            for (instrument, bars) in fresh {
                if back.contains(instrument) { answer[instrument] = bars } else {
                    state.entries[instrument] = Entry(bars: bars, before: beforeMicros, fullAt: now)
                }
            }
            for (instrument, from) in since {
                guard var e = state.entries[instrument] else { continue }
                var bars = e.bars.filter { $0.start < from }
                bars.append(contentsOf: delta[instrument] ?? [])
                if bars.count > limit { bars.removeFirst(bars.count - limit) }
                e.bars = bars
                e.before = beforeMicros
                state.entries[instrument] = e
            }
            return Dictionary(instruments.map { ($0, answer[$0] ?? state.entries[$0]?.bars ?? []) }, uniquingKeysWith: { first, _ in first })
        }
    }
}

extension BarStore {
    /// For each instrument, the newest `limit` bars that start in [its `since` µs,
    /// `beforeMicros`), oldest first, in one round trip (the bounds as exact µs arithmetic, not
    /// floating-point seconds).
    public func since(_ since: [String: Int64], timeframeSeconds: Int, limit: Int, beforeMicros: Int64) throws -> [String: [Bar]] {
        guard !since.isEmpty else { return [:] }
        let instruments = since.keys.sorted()
        let rows = try pool.query("""
            SELECT b.instrument, b.timeframe_seconds, b.start_time, b.open, b.high, b.low, b.close, b.volume, b.tick_count
            FROM unnest($1::text[], $2::bigint[]) AS i(instrument, since)
            CROSS JOIN LATERAL (
                SELECT * FROM bars WHERE instrument = i.instrument AND timeframe_seconds = $3
                    AND start_time >= timestamptz 'epoch' + i.since * interval '1 microsecond'
                    AND start_time < timestamptz 'epoch' + $4::bigint * interval '1 microsecond'
                ORDER BY start_time DESC LIMIT $5) b
            """, ["{" + instruments.joined(separator: ",") + "}", "{" + instruments.map { String(since[$0]!) }.joined(separator: ",") + "}",
                  timeframeSeconds, beforeMicros, limit], prepared: true)
        var grouped: [String: [PostgresRow]] = [:]
        for r in rows { grouped[try r.decode(String.self, column: "instrument"), default: []].append(r) }
        var out: [String: [Bar]] = [:]
        for (instrument, group) in grouped { out[instrument] = try decodeBars(group) }
        return out
    }
}
