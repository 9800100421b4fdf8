import TMTBase
import TMTCore
import TMTPipeline

/// An operator's `staging.commands` command for some accounts or all:
/// - `POST /api/v1/day/reset` (`day.reset`): a new staging trading day now; acknowledged by the
///   agents that keep per-day state (execution, compliance, circuit breaker by default;
///   `DAY_RESET_AGENTS`).
/// - `POST /api/v1/accounts/restart` (`account.restart`): the accounts start again as fresh
///   challenges (initial balance, no positions, epoch + 1); acknowledged by the agents that keep
///   per-account state (execution, compliance, circuit breaker, anti-correlation by default;
///   `ACCOUNT_RESTART_AGENTS`). "Every account" is the configured staging accounts
///   (COMPLIANCE_CONFIG), named in the command; it carries each account's target epoch, read
///   here, and a deadline (the agents stop waiting for the new epoch when the gateway does).
/// The answer lists what each agent did, from their `staging_command_acks` rows. Every attempt
/// leaves an `audit_log` row named after the action.
struct StagingCommandControl: Sendable {
    let action: StagingCommand.Action
    let producer: KafkaProducer
    let acks: StagingCommandStore
    let audit: AuditLog
    let token: BearerToken
    let agents: [String]
    let timeout: Double
    let logger: Logger
    /// What an empty `accounts` stands for, named in the command; nil: left empty ("every
    /// account" as each agent knows them — the day reset).
    var everyAccount: [String]? = nil

    struct Body: Decodable {
        /// The accounts in scope; absent or empty: every account.
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
        let name = action.rawValue
        var actor = BearerToken.operatorHeader(request) ?? "anonymous"
        var target = "-"
        var detail: [String: String] = ["remote": request.remoteAddress]
        do {
            try token.authorize(request)
            let body = try request.decodeCommand(Body.self, fields: ["accounts", "reason", "operator"])
            if actor == "anonymous" { actor = body.operator.map(BearerToken.sanitise).flatMap { $0.isEmpty ? nil : $0 } ?? "api" }
            let command = try command(body, operator: actor)
            target = command.accounts.isEmpty ? "accounts:*" : "accounts:" + command.accounts.joined(separator: ",")
            detail["commandId"] = command.id
            detail["reason"] = command.reason
            let result = try execute(command)
            detail["agents"] = result.acknowledgements.map { "\($0.agent)@\($0.instance)" }.joined(separator: ",")
            audit.record(actor: actor, action: name, target: target, result: "ok", detail: detail)
            logger.notice("staging command answered", traceId: "cmd-\(command.id)", ["action": name, "target": target, "by": actor,
                                                                                         "acknowledged": String(result.acknowledgements.count)])
            return try .json(result)
        } catch let e as HTTPError {
            detail["error"] = e.message
            audit.record(actor: actor, action: name, target: target, result: e.status.code == 504 ? "timeout" : "refused: \(e.code)",
                         detail: detail)
            logger.warning("staging command refused", ["action": name, "target": target, "by": actor, "code": e.code])
            throw e
        } catch {
            detail["error"] = "\(error)"
            audit.record(actor: actor, action: name, target: target, result: "failed", detail: detail)
            logger.error("staging command failed", ["action": name, "target": target, "by": actor, "error": "\(error)"])
            throw error
        }
    }

    /// Validates the body; named accounts must exist in the trading database (404 otherwise).
    func command(_ body: Body, operator who: String) throws -> StagingCommand {
        let accounts = (body.accounts ?? []).map { $0.trimmingWhitespace() }
        guard accounts.count <= 100 else { throw HTTPError.badRequest("field 'accounts' may name at most 100 accounts", code: "invalid_body") }
        for a in accounts where a.isEmpty || a.count > 128 || a.contains(where: { $0.isNewline || $0 == "\0" || $0 == "," }) {
            throw HTTPError.badRequest("field 'accounts': '\(String(a.prefix(40)))' is not an account id", code: "invalid_body")
        }
        let reason = body.reason?.trimmingWhitespace() ?? ""
        guard !reason.isEmpty else { throw HTTPError.badRequest("missing field 'reason'", code: "invalid_body") }
        guard reason.count <= 500 else { throw HTTPError.badRequest("field 'reason' must be at most 500 characters", code: "invalid_body") }
        let named = accounts.isEmpty ? everyAccount ?? [] : accounts
        var epochs: [String: Int] = [:]
        if !named.isEmpty {
            for row in try acks.pool.query("SELECT id, epoch FROM accounts WHERE id = ANY($1)", [named]) {
                epochs[try row.decode(String.self, column: "id")] = try row.decode(Int.self, column: "epoch") + 1
            }
        }
        let missing = named.filter { epochs[$0] == nil }
        guard missing.isEmpty else {
            throw HTTPError(.notFound, code: "unknown_account", message: "unknown account\(missing.count == 1 ? "" : "s"): \(missing.joined(separator: ", "))")
        }
        let issued = HopClock.nowMicros()
        return StagingCommand(id: "api-\(UUID().uuidString.lowercased())", action: action, accounts: Array(Set(named)).sorted(),
                              reason: reason, requestedBy: who, issuedAt: issued,
                              epochs: action == .accountRestart ? epochs : [:],
                              deadline: issued + Int64(timeout * 1_000_000))
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
                throw HTTPError(.gatewayTimeout, code: action.rawValue.replacing(".", with: "_") + "_timeout",
                                message: "not acknowledged within \(timeout) s by \(missing.sorted().joined(separator: ", "))"
                                    + (acknowledged.isEmpty ? "" : " (applied by \(Set(acknowledged.map(\.agent)).sorted().joined(separator: ", ")))"))
            }
            usleep(100_000)
        }
    }
}
