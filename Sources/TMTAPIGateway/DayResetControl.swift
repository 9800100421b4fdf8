import Foundation
import TMTCore
import TMTPipeline

/// `POST /api/v1/day/reset`: a new staging trading day now, for some accounts or all. The
/// command goes on `staging.commands`; the answer lists what each agent that keeps per-day state
/// (execution, compliance, circuit breaker by default; `DAY_RESET_AGENTS`) did, from their
/// `staging_command_acks` rows. Every attempt leaves an `audit_log` row.
struct DayResetControl: Sendable {
    let producer: KafkaProducer
    let acks: StagingCommandStore
    let audit: AuditLog
    let token: BearerToken
    let agents: [String]
    let timeout: Double
    let logger: Logger

    struct Body: Decodable {
        /// Accounts to reset; absent or empty: every account.
        var accounts: [String]?
        var reason: String?
        var `operator`: String?
    }

    struct Result: Encodable {
        var commandId: String
        var action: String
        /// The accounts named, or `["*"]` for all.
        var accounts: [String]
        var `operator`: String
        var reason: String
        /// One row per agent instance that applied it.
        var acknowledgements: [StagingCommandStore.Acknowledgement]
    }

    func handle(_ request: HTTPRequest) throws -> HTTPResponse {
        let name = "day.reset"
        var actor = BearerToken.operatorHeader(request) ?? "anonymous"
        var target = "-"
        var detail: [String: String] = ["remote": request.remoteAddress]
        do {
            try token.authorize(request)
            let body = try request.decode(Body.self)
            if actor == "anonymous" { actor = body.operator.map(BearerToken.sanitise).flatMap { $0.isEmpty ? nil : $0 } ?? "api" }
            let command = try command(body, operator: actor)
            target = command.accounts.isEmpty ? "accounts:*" : "accounts:" + command.accounts.joined(separator: ",")
            detail["commandId"] = command.id
            detail["reason"] = command.reason
            let result = try execute(command)
            detail["agents"] = result.acknowledgements.map { "\($0.agent)@\($0.instance)" }.joined(separator: ",")
            audit.record(actor: actor, action: name, target: target, result: "ok", detail: detail)
            logger.notice("day reset", traceId: "cmd-\(command.id)", ["target": target, "by": actor,
                                                                       "acknowledged": String(result.acknowledgements.count)])
            return try .json(result)
        } catch let e as HTTPError {
            detail["error"] = e.message
            audit.record(actor: actor, action: name, target: target, result: e.status.code == 504 ? "timeout" : "refused: \(e.code)",
                         detail: detail)
            logger.warning("day reset refused", ["target": target, "by": actor, "code": e.code])
            throw e
        } catch {
            detail["error"] = "\(error)"
            audit.record(actor: actor, action: name, target: target, result: "failed", detail: detail)
            logger.error("day reset failed", ["target": target, "by": actor, "error": "\(error)"])
            throw error
        }
    }

    /// Validates the body; named accounts must exist in the trading database (404 otherwise).
    func command(_ body: Body, operator who: String) throws -> StagingCommand {
        let accounts = (body.accounts ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        guard accounts.count <= 100 else { throw HTTPError.badRequest("field 'accounts' may name at most 100 accounts", code: "invalid_body") }
        for a in accounts where a.isEmpty || a.count > 128 || a.contains(where: { $0.isNewline || $0 == "\0" || $0 == "," }) {
            throw HTTPError.badRequest("field 'accounts': '\(String(a.prefix(40)))' is not an account id", code: "invalid_body")
        }
        let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !reason.isEmpty else { throw HTTPError.badRequest("missing field 'reason'", code: "invalid_body") }
        guard reason.count <= 500 else { throw HTTPError.badRequest("field 'reason' must be at most 500 characters", code: "invalid_body") }
        if !accounts.isEmpty {
            let known = Set(try acks.pool.query("SELECT id FROM accounts WHERE id = ANY($1)", [accounts]).map { try $0.decode(String.self, column: "id") })
            let missing = accounts.filter { !known.contains($0) }
            guard missing.isEmpty else {
                throw HTTPError(.notFound, code: "unknown_account", message: "unknown account\(missing.count == 1 ? "" : "s"): \(missing.joined(separator: ", "))")
            }
        }
        return StagingCommand(id: "api-\(UUID().uuidString.lowercased())", action: .dayReset, accounts: Array(Set(accounts)).sorted(),
                              reason: reason, requestedBy: who, issuedAt: HopClock.nowMicros())
    }

    /// Publishes `command` and waits until every agent in `agents` has acknowledged it.
    private func execute(_ command: StagingCommand) throws -> Result {
        let envelope = Envelope(id: command.id, type: "staging.command", traceId: "cmd-\(command.id)", source: "api-gateway", payload: command)
        do {
            _ = try producer.send(envelope, to: .stagingCommands, key: "staging").wait(timeout: min(timeout, 10))
        } catch {
            logger.error("staging command not published", ["command": command.id, "error": "\(error)"])
            throw HTTPError(.serviceUnavailable, code: "kafka_unavailable", message: "the command could not be published on staging.commands")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var acknowledged: [StagingCommandStore.Acknowledgement] = []
        while true {
            acknowledged = (try? acks.acknowledgements(command.id)) ?? acknowledged
            let missing = Set(agents).subtracting(acknowledged.map(\.agent))
            if missing.isEmpty {
                return Result(commandId: command.id, action: command.action.rawValue, accounts: command.accounts.isEmpty ? ["*"] : command.accounts,
                              operator: command.requestedBy, reason: command.reason, acknowledgements: acknowledged)
            }
            if Date() >= deadline {
                throw HTTPError(.gatewayTimeout, code: "day_reset_timeout",
                                message: "not acknowledged within \(timeout) s by \(missing.sorted().joined(separator: ", "))"
                                    + (acknowledged.isEmpty ? "" : " (applied by \(Set(acknowledged.map(\.agent)).sorted().joined(separator: ", ")))"))
            }
            usleep(100_000)
        }
    }
}
