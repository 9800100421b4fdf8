import TMTBase
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
    ///
    /// One statement (the event's insert and the row's update in one data-modifying query),
    /// autocommitted: one round trip, atomic, and the update happens only when the event is new.
    public func recordEvent(order: Order, agent: String, messageId: String, processingMs: Double, hops: [Hop]? = nil) throws {
        let event = try eventStatement(order: order, agent: agent, messageId: messageId, processingMs: processingMs, hops: hops)
        try pool.execute(event.sql, event.parameters, prepared: true)
    }

    /// `recordEvent`'s statement, for an agent that records something else in the same
    /// transaction (`PostgresPool.executeTogether`).
    public func eventStatement(order: Order, agent: String, messageId: String, processingMs: Double,
                               hops: [Hop]? = nil) throws -> (sql: String, parameters: [any PostgresEncodable]) {
        (Self.eventSQL,
         [messageId, order.id, agent, order.status.rawValue, order.decisions.last?.verdict.rawValue,
          try PostgresJSON(encoding: order.decisions.last?.figures ?? [:]), processingMs,
          try PostgresJSON(encoding: order.decisions), order.quantity, try hops.map { try PostgresJSON(encoding: $0) },
          Self.lifecycleOrder])
    }

    static let eventSQL = """
        WITH event AS (
            INSERT INTO order_events (message_id, order_id, agent, status, verdict, detail, processing_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id) DO NOTHING
            RETURNING order_id)
        UPDATE orders SET status = $4, decisions = $8, quantity = $9, hops = COALESCE($10, hops), updated_at = now()
        WHERE id = $2 AND EXISTS (SELECT 1 FROM event)
          AND array_position($11::text[], status) < array_position($11::text[], $4)
        """

    /// Statuses from earliest to latest (terminal ones last), as a Postgres text[] literal.
    static let lifecycleOrder = "{" + ([OrderStatus.proposed, .approved, .decorrelated, .humanized, .cleared, .pending, .partiallyFilled,
                                         .rejected, .skipped, .blocked, .filled, .cancelled, .expired].map(\.rawValue)
                                        .joined(separator: ",")) + "}"
}
