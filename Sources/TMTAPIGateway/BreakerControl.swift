import TMTBase
import TMTCore
import TMTPipeline
import TMTTrading

/// Breaker commands through the API: validated, published on `breaker.commands`, then answered
/// with the state the circuit breaker reports once it has applied the command (its Redis
/// snapshot lists the command id; the stored `breaker_events` rows carry it too). Every attempt,
/// refused ones included, leaves an `audit_log` row.
struct BreakerControl: Sendable {
    let producer: KafkaProducer
    let redis: RedisClient
    let queries: TradingQueries
    let audit: AuditLog
    let token: BearerToken
    let snapshotKey: String
    let timeout: Double
    let logger: Logger

    /// The JSON body of a breaker command.
    struct CommandBody: Decodable {
        var tier: String?
        var target: String?
        var reason: String?
        /// Who issues it; the `X-Operator` header wins.
        var `operator`: String?
    }

    /// The 200 answer: the command and the breaker's resulting state.
    struct CommandResult: Encodable {
        var commandId: String
        var action: String
        var tier: String
        var target: String
        var `operator`: String
        var breaker: BreakerStateView?
        var tradingHalted: Bool
    }

    /// One breaker as the snapshot has it.
    struct BreakerStateView: Encodable {
        var tier: String
        var target: String
        /// `normal`, `warning`, `tripped` or `halfOpen`.
        var state: String
        /// True until fresh data confirmed the state since the breaker started or restored: the
        /// state then counts as unknown and trading is HALTED (fail closed). A manual trip does
        /// not confirm; a reset does.
        var awaitingData: Bool
        var reason: String
        var manual: Bool
        var since: Int64
        var recoveryAt: Int64?

        init(_ b: Breaker) {
            tier = b.key.tier.rawValue
            target = b.key.target
            state = b.state.rawValue
            awaitingData = !b.isKnown
            reason = b.reason.detail
            manual = b.manual
            since = b.since
            recoveryAt = b.recoveryAt
        }
    }

    /// Handles `POST /api/v1/breaker/<action>`.
    func handle(_ action: BreakerCommand.Action, _ request: HTTPRequest) throws -> HTTPResponse {
        let name = "breaker.\(action.rawValue)"
        var actor = BearerToken.operatorHeader(request) ?? "anonymous"
        var target = "-"
        var detail: [String: String] = ["remote": request.remoteAddress]
        do {
            try token.authorize(request)
            let body = try request.decodeCommand(CommandBody.self, fields: ["tier", "target", "reason", "operator"])
            if actor == "anonymous" { actor = body.operator.map(BearerToken.sanitise).flatMap { $0.isEmpty ? nil : $0 } ?? "api" }
            let command = try Self.command(action, body, operator: actor)
            target = command.key.map { "\($0.tier.rawValue):\($0.target)" } ?? "-"
            detail["commandId"] = command.id
            detail["reason"] = String(command.reason.prefix(500))
            let result = try execute(command)
            detail["state"] = result.breaker?.state ?? "unknown"
            audit.record(actor: actor, action: name, target: target, result: "ok", detail: detail)
            logger.notice("breaker command", traceId: command.id, ["action": action.rawValue, "target": target, "by": actor,
                                                                    "state": result.breaker?.state ?? "unknown"])
            return try .json(result)
        } catch let e as HTTPError {
            detail["error"] = e.message
            // 504: published but unconfirmed (it stays queued), which is not a refusal.
            audit.record(actor: actor, action: name, target: target, result: e.status.code == 504 ? "timeout" : "refused: \(e.code)",
                         detail: detail)
            logger.warning("breaker command refused", ["action": action.rawValue, "target": target, "by": actor, "code": e.code])
            throw e
        } catch {
            detail["error"] = "\(error)"
            audit.record(actor: actor, action: name, target: target, result: "failed", detail: detail)
            logger.error("breaker command failed", ["action": action.rawValue, "target": target, "by": actor, "error": "\(error)"])
            throw error
        }
    }

    /// Validates the body as the breaker would (so a command it would reject is a 400 here,
    /// not a timeout) and builds the command with a fresh id.
    static func command(_ action: BreakerCommand.Action, _ body: CommandBody, operator who: String) throws -> BreakerCommand {
        guard let rawTier = body.tier?.trimmingWhitespace(), !rawTier.isEmpty else {
            throw HTTPError.badRequest("missing field 'tier'", code: "invalid_body")
        }
        guard let tier = BreakerTier(rawValue: rawTier) else {
            throw HTTPError.badRequest("field 'tier' must be one of \(BreakerTier.allCases.map(\.rawValue).joined(separator: ", "))",
                                       code: "invalid_body")
        }
        var target = body.target?.trimmingWhitespace() ?? ""
        if tier == .system {
            target = BreakerKey.systemTarget
        } else if target.isEmpty {
            throw HTTPError.badRequest("missing field 'target' (required for tier \(tier.rawValue))", code: "invalid_body")
        }
        guard target.count <= 128, !target.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw HTTPError.badRequest("field 'target' must be at most 128 characters on one line", code: "invalid_body")
        }
        let reason = body.reason?.trimmingWhitespace() ?? ""
        if action != .reset, reason.isEmpty {
            throw HTTPError.badRequest("missing field 'reason' (required for \(action.rawValue))", code: "invalid_body")
        }
        guard reason.count <= 500 else { throw HTTPError.badRequest("field 'reason' must be at most 500 characters", code: "invalid_body") }
        if action == .flatten, tier != .account, tier != .system {
            throw HTTPError.badRequest("field 'tier': flatten applies to an account or the system", code: "invalid_body")
        }
        return BreakerCommand(id: "api-\(UUID().uuidString.lowercased())", action: action, tier: tier, target: target,
                              reason: reason, requestedBy: who, issuedAt: HopClock.nowMicros())
    }

    /// Publishes `command` and waits for the breaker's snapshot to list it.
    private func execute(_ command: BreakerCommand) throws -> CommandResult {
        let key = command.key!
        let envelope = Envelope(id: command.id, type: "breaker.command", traceId: "cmd-\(command.id)", source: "api-gateway", payload: command)
        do {
            _ = try producer.send(envelope, to: .breakerCommands, key: key.target).wait(timeout: min(timeout, 10))
        } catch {
            logger.error("breaker command not published", ["command": command.id, "error": "\(error)"])
            throw HTTPError(.serviceUnavailable, code: "kafka_unavailable", message: "the command could not be published on breaker.commands")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let snapshot = try? currentSnapshot(), snapshot.appliedCommands.contains(command.id) {
                let breaker = snapshot.breakers.first { $0.key == key }
                return CommandResult(commandId: command.id, action: command.action.rawValue, tier: key.tier.rawValue, target: key.target,
                                     operator: command.requestedBy, breaker: breaker.map(BreakerStateView.init),
                                     tradingHalted: breaker.map { !$0.isKnown || $0.state == .tripped } ?? true)
            }
            usleep(100_000)
        }
        throw HTTPError(.gatewayTimeout, code: "breaker_timeout",
                        message: "the circuit breaker did not confirm command \(command.id) within \(timeout) s; it stays queued on breaker.commands")
    }

    /// The breaker saves its snapshot at every transition and at least every 30 s: one older
    /// than this means the breaker is not running (or cannot write), and nothing clears.
    static let staleSnapshotMicros: Int64 = 90_000_000

    /// What every account may do now, from the snapshot: its system trading state (the system
    /// breaker and the critical agents), HALTED when there is none (the breaker has not
    /// reported: fail closed, as it does itself) or it is stale. A snapshot from before the
    /// state was written is judged by its system breaker alone.
    static func systemTrading(_ snapshot: BreakerSnapshot?, now: Int64) -> SystemTrading {
        guard let snapshot else {
            return SystemTrading(state: .halted, reasons: ["the circuit breaker has not reported a state yet (fail closed)"])
        }
        let age = now - snapshot.takenAt
        if age > staleSnapshotMicros {
            return SystemTrading(state: .halted, reasons: [
                "the circuit breaker's last snapshot is \(age / 1_000_000) s old: it is not running or cannot save, and no order is cleared"])
        }
        if let trading = snapshot.systemTrading { return trading }
        guard let system = snapshot.breakers.first(where: { $0.key == .system }), system.isKnown else {
            return SystemTrading(state: .halted, reasons: ["system breaker unknown (fail closed)"])
        }
        switch system.state {
        case .normal: return SystemTrading(state: .active, reasons: [])
        case .warning, .halfOpen: return SystemTrading(state: .reducing, reasons: [system.reason.detail])
        case .tripped: return SystemTrading(state: .halted, reasons: [system.reason.detail])
        }
    }

    /// The breaker's current Redis snapshot, nil when it has none.
    func currentSnapshot() throws -> BreakerSnapshot? {
        guard let bytes = try redis.execute(.get(snapshotKey)).check(command: "GET").bytes() else { return nil }
        return try BreakerSnapshot.decode(bytes)
    }

    /// `GET /api/v1/breaker`: the snapshot's breakers and the recent stored transitions.
    func overview(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["limit", "tier", "target"])
        let limit = try q.int("limit", default: 50, range: 1...TradingQueries.maxLimit)
        let tier = try q.choice("tier", BreakerTier.allCases.map(\.rawValue))
        let target = try q.string("target")
        let snapshot: BreakerSnapshot?
        do { snapshot = try currentSnapshot() } catch {
            logger.warning("breaker snapshot unreadable", ["error": "\(error)"])
            throw HTTPError.serviceUnavailable("the breaker snapshot in Redis cannot be read", code: "redis_unavailable")
        }
        var out = RawJSON()
        try out.value("snapshotAt", snapshot?.takenAt)
        var breakers = snapshot?.breakers.map(BreakerStateView.init) ?? []
        if let tier { breakers = breakers.filter { $0.tier == tier } }
        if let target { breakers = breakers.filter { $0.target == target } }
        try out.value("breakers", breakers)
        let trading = Self.systemTrading(snapshot, now: HopClock.nowMicros())
        try out.value("tradingState", trading.state.rawValue)
        try out.value("tradingReasons", trading.reasons)
        try out.value("snapshotAgeSeconds", snapshot.map { Double(max(0, HopClock.nowMicros() - $0.takenAt)) / 1e6 })
        try out.value("tradingHalted", trading.state == .halted)
        out.array("events", try queries.breakerEvents(limit: limit, tier: tier, target: target))
        return out.response()
    }
}
