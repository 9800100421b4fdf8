import TMTBase
import TMTCore
import TMTTrading

/// The closed trades in the trading database: every fill with the pattern and experiment tag of
/// its order's signal, replayed through `ClosedTradeLedger`, and each account's starting balance.
/// The tag is stored in the signal's `evidence` (ARIA persists `Signal.evidence`, where the
/// Wyckoff detector set writes `experiment` for a variant's signals; `Signal.experiment` itself
/// has no column).
///
/// The fills are kept in memory and each call reads only those stored since the last one (by
/// `fills.seq`, re-reading the last `overlap` in case a later number committed first), and
/// everything every `reloadSeconds`; the analytics run on every fill, and reading every fill
/// there is each time grew with the history (88 ms a run at 700 trades, every second under load).
/// Likewise the new fills are folded onto the replay of the earlier ones (`ClosedTradeLedger.fold`)
/// unless one comes before its position's last fill, or was read before with other figures: then
/// the held fills are replayed from the first.
public final class TradeHistory: Sendable {
    public let pool: PostgresPool
    public let ledger: ClosedTradeLedger
    /// Fills re-read below the highest number seen.
    public let overlap: Int64

    /// How often everything is read again, seconds (a reset database, a fill rewritten).
    public let reloadSeconds: Double

    private struct Cache: Sendable {
        var fills: [String: ClosedTradeLedger.FillRecord] = [:]
        var lastSeq: Int64 = 0
        /// When everything was last read (monotonic ns); nil before the first read.
        var loadedAt: UInt64?
        /// Fill rows read from the database, over all reads.
        var rowsRead = 0
        /// The replay of the fills held: new fills are folded on.
        var progress = ClosedTradeLedger.Progress()
        /// Replays from the first fill after the first of a load (a fill came in before the last
        /// one folded, or one read again had changed), over all loads.
        var replays = 0
    }
    private let cache = Locked(Cache())

    public init(pool: PostgresPool, ledger: ClosedTradeLedger, overlap: Int64 = 50, reloadSeconds: Double = 600) {
        self.pool = pool
        self.ledger = ledger
        self.overlap = overlap
        self.reloadSeconds = reloadSeconds
    }

    /// How many fills are held, how many rows were read in all, and how many times the held
    /// fills were replayed from the first after a load had folded them (for the tests).
    public var held: (fills: Int, rowsRead: Int, replays: Int) { cache.withLock { ($0.fills.count, $0.rowsRead, $0.replays) } }

    /// All closed trades, or only those of `accounts` (a position's trades depend on its own
    /// account's fills alone, so they are the same as replaying that account's fills).
    public func closedTrades(accounts: [String]? = nil) throws -> [ClosedTrade] {
        if let accounts, accounts.isEmpty { return [] }
        try refresh()
        let trades = cache.withLock { $0.progress.replay.trades }
        guard let accounts else { return trades }
        let wanted = Set(accounts)
        return trades.filter { wanted.contains($0.account) }
    }

    /// Reads the fills stored since the last read (one request at a time: the lock is held).
    private func refresh() throws {
        try cache.withLock { c in
            let now = Monotonic.nanos()
            if c.loadedAt.map({ now &- $0 >= UInt64(reloadSeconds * 1e9) }) ?? true { c = Cache(loadedAt: now, rowsRead: c.rowsRead, replays: c.replays) }
            let rows = try pool.query("""
                SELECT f.seq, f.id, f.order_id, f.account_id, f.instrument, f.side, f.quantity, f.price, f.commission, f.realized_pnl,
                       f.filled_at, f.account_epoch, s.pattern, s.evidence->>'experiment' AS experiment,
                       (extract(epoch FROM o.created_at) * 1000000)::bigint AS ordered_at
                FROM fills f JOIN orders o ON o.id = f.order_id LEFT JOIN signals s ON s.id = o.signal_id
                WHERE f.seq > $1 ORDER BY f.seq
                """, [max(0, c.lastSeq - overlap)])
            c.rowsRead += rows.count
            // The overlap reads fills again; only new ones are folded. One changed since it was
            // read, or a new one before the last folded of its position (a fill of an earlier
            // time committed late), and the held fills are replayed from the first.
            // Every row decoded before the cache changes: a row that fails leaves it as it was
            // (held fills not yet folded would otherwise be skipped as held from then on).
            let read = try rows.map { (record: try Self.record($0), seq: try $0.decode(Int64.self, column: "seq")) }
            var fresh: [ClosedTradeLedger.FillRecord] = []
            var changed = false
            for (record, seq) in read {
                if let held = c.fills[record.id] {
                    if held != record { changed = true }
                } else {
                    fresh.append(record)
                }
                c.fills[record.id] = record
                c.lastSeq = max(c.lastSeq, seq)
            }
            if changed || !ledger.fold(fresh, into: &c.progress) {
                c.progress = ClosedTradeLedger.Progress()
                _ = ledger.fold(Array(c.fills.values), into: &c.progress)
                c.replays += 1
            }
        }
    }

    private static func record(_ r: PostgresRow) throws -> ClosedTradeLedger.FillRecord {
        guard let side = Side(rawValue: try r.decode(String.self, column: "side")) else {
            throw TMTError(.decoding, "fill \(try r.decode(String.self, column: "id")) has an unknown side")
        }
        return ClosedTradeLedger.FillRecord(
            id: try r.decode(String.self, column: "id"), orderId: try r.decode(String.self, column: "order_id"),
            accountId: try r.decode(String.self, column: "account_id"), instrument: try r.decode(String.self, column: "instrument"),
            side: side, quantity: try r.decode(Decimal.self, column: "quantity"), price: try r.decode(Decimal.self, column: "price"),
            commission: try r.decode(Decimal.self, column: "commission"),
            realizedPnL: try r.decode(Decimal.self, column: "realized_pnl"),
            time: Int64((try r.decode(Date.self, column: "filled_at").timeIntervalSince1970 * 1e6).rounded()),
            pattern: try r.decode(String?.self, column: "pattern"), experiment: try r.decode(String?.self, column: "experiment"),
            accountEpoch: try r.decode(Int.self, column: "account_epoch"), orderedAt: try r.decode(Int64?.self, column: "ordered_at"))
    }

    /// Initial balance per account id.
    public func startingBalances() throws -> [String: Decimal] {
        var balances: [String: Decimal] = [:]
        for r in try pool.query("SELECT id, initial_balance FROM accounts") {
            balances[try r.decode(String.self, column: "id")] = try r.decode(Decimal.self, column: "initial_balance")
        }
        return balances
    }
}
