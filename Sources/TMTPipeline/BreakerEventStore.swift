import TMTBase
import TMTCore
import TMTTrading

/// Circuit-breaker transitions in the trading database (`breaker_events`), keyed by the event's
/// deterministic id so a replay writes nothing twice.
public struct BreakerEventStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// The tiers the `breaker_events` table accepts (its CHECK constraint predates the
    /// instrument tier, whose events are published on `breaker.events` only).
    public static let storedTiers: Set<BreakerTier> = [.system, .agent, .account]

    /// The row (and message) id of `event`: its deterministic id within the breaker history
    /// `epoch` (a history restored from a snapshot keeps its epoch, so a replay repeats the id).
    public static func storedId(_ event: BreakerEvent, epoch: String) -> String { "\(event.id)@\(epoch)" }

    /// Inserts the events of a stored tier (state unknown is written as `unknown`) under
    /// `storedId`; returns how many were new.
    @discardableResult
    public func record(_ events: [BreakerEvent], epoch: String) throws -> Int {
        let stored = events.filter { Self.storedTiers.contains($0.tier) }
        guard !stored.isEmpty else { return 0 }
        return try pool.transaction { conn in
            var inserted = 0
            for e in stored {
                var detail = ["cause": e.reason.cause.rawValue, "eventId": e.id]
                for (k, v) in e.reason.figures { detail["figure." + k] = v }
                if let who = e.reason.requestedBy { detail["operator"] = who }
                if let id = e.reason.commandId { detail["commandId"] = id }
                if let r = e.recoveryAt { detail["recoveryAt"] = String(r) }
                inserted += try conn.execute("""
                    INSERT INTO breaker_events (id, tier, target, from_state, to_state, reason, detail, at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING
                    """, [Self.storedId(e, epoch: epoch), e.tier.rawValue, e.target, e.from?.rawValue ?? "unknown", e.to.rawValue, e.reason.detail,
                          try PostgresJSON(encoding: detail), Date(timeIntervalSince1970: Double(e.at) / 1e6)], prepared: true)
            }
            return inserted
        }
    }

    /// Records an applied operator command (idempotent by id: a redelivery or a retry after a
    /// failure writes nothing twice).
    public func recordApplied(_ command: BreakerCommand, message: String) throws {
        _ = try pool.execute("""
            INSERT INTO breaker_commands (id, action, tier, target, requested_by, reason, issued_at, message)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING
            """, [command.id, command.action.rawValue, command.tier.rawValue, command.target, command.requestedBy, command.reason,
                  Date(micros: command.issuedAt), message])
    }

    /// Whether the command was recorded as applied.
    public func isApplied(_ commandId: String) throws -> Bool {
        try pool.queryOne("SELECT 1 AS one FROM breaker_commands WHERE id = $1", [commandId]) != nil
    }
}
