import TMTBase
import TMTCore
import TMTTrading

/// The closed trades in the trading database: every fill with the pattern and experiment tag of
/// its order's signal, replayed through `ClosedTradeLedger`, and each account's starting balance.
/// The tag is stored in the signal's `evidence` (ARIA persists `Signal.evidence`, where the
/// Wyckoff detector set writes `experiment` for a variant's signals; `Signal.experiment` itself
/// has no column).
struct TradeHistory: Sendable {
    let pool: PostgresPool
    let ledger: ClosedTradeLedger

    /// All closed trades, or only those of `accounts`.
    func closedTrades(accounts: [String]? = nil) throws -> [ClosedTrade] {
        var sql = """
            SELECT f.id, f.order_id, f.account_id, f.instrument, f.side, f.quantity, f.price, f.commission, f.realized_pnl,
                   f.filled_at, f.account_epoch, s.pattern, s.evidence->>'experiment' AS experiment,
                   (extract(epoch FROM o.created_at) * 1000000)::bigint AS ordered_at
            FROM fills f JOIN orders o ON o.id = f.order_id LEFT JOIN signals s ON s.id = o.signal_id
            """
        var parameters: [any PostgresEncodable] = []
        if let accounts {
            guard !accounts.isEmpty else { return [] }
            sql += " WHERE f.account_id = ANY($1::text[])"
            parameters.append(accounts)
        }
        sql += " ORDER BY f.account_id, f.instrument, f.filled_at, f.id"
        let records = try pool.query(sql, parameters).map { r in
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
        return ledger.trades(from: records)
    }

    /// Initial balance per account id.
    func startingBalances() throws -> [String: Decimal] {
        var balances: [String: Decimal] = [:]
        for r in try pool.query("SELECT id, initial_balance FROM accounts") {
            balances[try r.decode(String.self, column: "id")] = try r.decode(Decimal.self, column: "initial_balance")
        }
        return balances
    }
}
