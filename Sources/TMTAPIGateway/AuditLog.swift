import TMTBase
import TMTCore

/// `audit_log` rows for API mutations: who (actor), what (action, target), when (the row's
/// time), result, and a detail object. A failing insert is logged, never hides the answer.
struct AuditLog: Sendable {
    let pool: PostgresPool
    let logger: Logger

    func record(actor: String, action: String, target: String, result: String, detail: [String: String]) {
        do {
            _ = try pool.execute("INSERT INTO audit_log (actor, action, target, result, detail) VALUES ($1, $2, $3, $4, $5)",
                                 [actor, action, target, result, try PostgresJSON(encoding: detail)])
        } catch {
            logger.error("audit row not written", ["action": action, "actor": actor, "result": result, "error": "\(error)"])
        }
    }
}
