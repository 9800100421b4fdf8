import TMTBase
import TMTCore

/// Signals, orders and their event trail in the trading database. Every write is keyed by a
/// deterministic id, so a redelivered message repeats nothing.
public struct OrderStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Records a signal and the orders ARIA made of it (sized, or skipped with the reason), with
    /// one order event each: all or nothing, in one round trip (`executeTogether`).
    public func recordSizing(signal: Envelope<Signal>, orders: [(order: Order, hops: [Hop])], agent: String, processingMs: Double) throws {
        let s = signal.payload
        var statements: [(sql: String, parameters: [any PostgresEncodable])] = [("""
            INSERT INTO signals (id, instrument, side, entry, stop_loss, take_profit, confidence, pattern, phase, evidence, trace_id, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING
            """, [s.id, s.instrument, s.side.rawValue, s.entry, s.stopLoss, s.takeProfit, s.confidence, s.pattern, s.phase,
                  try PostgresJSON(encoding: s.evidence), signal.traceId, Date(timeIntervalSince1970: Double(s.createdAt) / 1e6)])]
        for (order, hops) in orders {
            statements.append(("""
                INSERT INTO orders (id, signal_id, account_id, instrument, side, type, quantity, price, stop_loss, take_profit,
                                    risk_reducing, status, decisions, hops, trace_id, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO NOTHING
                """, [order.id, order.signalId, order.accountId, order.instrument, order.side.rawValue, order.type.rawValue,
                      order.quantity, order.price, order.stopLoss, order.takeProfit, order.riskReducing, order.status.rawValue,
                      try PostgresJSON(encoding: order.decisions), try PostgresJSON(encoding: hops), signal.traceId,
                      Date(timeIntervalSince1970: Double(order.createdAt) / 1e6)]))
            statements.append(("""
                INSERT INTO order_events (message_id, order_id, agent, status, verdict, detail, processing_ms)
                VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id) DO NOTHING
                """, ["\(order.id):\(agent)", order.id, agent, order.status.rawValue, order.decisions.last?.verdict.rawValue,
                      try PostgresJSON(encoding: order.decisions.last?.figures ?? [:]), processingMs]))
        }
        try pool.executeTogether(statements)
    }
}
