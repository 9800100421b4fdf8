import Foundation
import TMTCore

extension OrderStore {
    /// Records one agent's verdict on an order that moved on (compliance, anti-correlation, human
    /// behaviour, the circuit breaker): an `order_events` row keyed by `messageId` (a redelivered
    /// message repeats nothing) and, where the order's row exists, its new status, quantity (an
    /// agent may resize) and decision trail. Orders
    /// that never had a row (made outside the sizing path) get the event only. `hops`, when given,
    /// replace the row's latency trail (the order's hops so far, this agent's included).
    ///
    /// The row only moves forward in the lifecycle: agents record in whatever order their
    /// transactions commit (a downstream agent may be quicker than the upstream one's write), and
    /// a late write of an earlier stage must not overwrite a later status.
    public func recordEvent(order: Order, agent: String, messageId: String, processingMs: Double, hops: [Hop]? = nil) throws {
        try pool.transaction { conn in
            let inserted = try conn.execute("""
                INSERT INTO order_events (message_id, order_id, agent, status, verdict, detail, processing_ms)
                VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id) DO NOTHING
                """, [messageId, order.id, agent, order.status.rawValue, order.decisions.last?.verdict.rawValue,
                      try PostgresJSON(encoding: order.decisions.last?.figures ?? [:]), processingMs], prepared: true)
            guard inserted > 0 else { return }
            _ = try conn.execute("""
                UPDATE orders SET status = $2, decisions = $3, quantity = $4, hops = COALESCE($5, hops), updated_at = now()
                WHERE id = $1 AND array_position($6::text[], status) < array_position($6::text[], $2)
                """, [order.id, order.status.rawValue, try PostgresJSON(encoding: order.decisions), order.quantity,
                      try hops.map { try PostgresJSON(encoding: $0) }, Self.lifecycleOrder], prepared: true)
        }
    }

    /// Statuses from earliest to latest (terminal ones last), as a Postgres text[] literal.
    static let lifecycleOrder = "{" + ([OrderStatus.proposed, .approved, .decorrelated, .humanized, .cleared, .pending, .partiallyFilled,
                                         .rejected, .skipped, .blocked, .filled, .cancelled, .expired].map(\.rawValue)
                                        .joined(separator: ",")) + "}"
}
