import TMTBase
import TMTCore

/// Improvement experiments through the API. Reads come straight from the `experiments` table;
/// approve and stop are the continuous-improvement agent's decisions (baseline checks, one
/// rollout per service, config updates), so they are forwarded to it with its own token and the
/// operator, and its answer (status and JSON body, 404 and 409 included) is passed back. Every
/// attempt, refused ones included, leaves a gateway `audit_log` row (`detail.via` =
/// `api-gateway`; the agent writes its own row for the attempts that reach it).
struct ExperimentControl: Sendable {
    let pool: PostgresPool
    let queries: TradingQueries
    let audit: AuditLog
    let token: BearerToken
    /// The continuous-improvement agent's token (`IMPROVEMENT_API_TOKEN`); nil disables the commands.
    let improvementToken: String?
    /// The agent's base URL (AGENT_URLS' `continuous-improvement`); nil when it is not listed.
    let agentURL: String?
    /// Seconds to wait for the agent's answer.
    let timeout: Double
    let logger: Logger

    /// An experiment row as JSON: the columns, and the rollout's history from `results`.
    static let experimentJSON = """
        jsonb_build_object('id', e.id, 'service', e.service, 'status', e.status, 'parameters', e.parameters,
            'baseline', e.baseline, 'pValue', e.p_value, 'improvementPercent', e.improvement_percent,
            'rolloutPercent', e.rollout_percent, 'rolloutStage', e.rollout_stage, 'stageStartedAt', e.stage_started_at,
            'history', coalesce(e.results->'history', '[]'::jsonb), 'createdAt', e.created_at, 'updatedAt', e.updated_at)
        """

    static let statuses = ["pending", "rolling", "completed", "rolled_back", "emergency_stopped", "stopped"]

    /// `GET /api/v1/experiments`: newest first, by status and service, paginated.
    func list(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["status", "service", "since", "until", "limit", "cursor"])
        var p = TradingQueries.Paged(json: Self.experimentJSON, from: "experiments e", timeColumn: "e.created_at", idColumn: "e.id")
        if let s = try q.choice("status", Self.statuses) { p.filter("e.status = ?", s) }
        if let s = try q.string("service") { p.filter("e.service = ?", s) }
        try p.window(q)
        return try queries.page(p, q)
    }

    /// `GET /api/v1/proposals`: the experiments waiting for an approval.
    func proposals(_ request: HTTPRequest) throws -> HTTPResponse {
        let q = try QueryParameters(request, allowed: ["service", "limit", "cursor"])
        var p = TradingQueries.Paged(json: Self.experimentJSON, from: "experiments e", timeColumn: "e.created_at", idColumn: "e.id")
        p.filter("e.status = ?", "pending")
        if let s = try q.string("service") { p.filter("e.service = ?", s) }
        return try queries.page(p, q)
    }

    /// `GET /api/v1/experiments/:id`: the row with its whole `results` document (shadow evidence
    /// and history).
    func experiment(_ id: String) throws -> HTTPResponse {
        guard let row = try pool.queryOne("""
            SELECT (\(Self.experimentJSON) || jsonb_build_object('results', e.results))::text AS j FROM experiments e WHERE e.id = $1
            """, [id], retryOnConnectionLoss: true) else {
            throw HTTPError.notFound("no experiment \(String(id.prefix(200)))")
        }
        return .bytes(Array(try row.decode(String.self, column: "j").utf8), contentType: "application/json")
    }

    /// `POST /api/v1/experiments/:id/<action>` (`approve` or `stop`).
    func forward(_ action: String, id: String, _ request: HTTPRequest) throws -> HTTPResponse {
        let name = "experiment.\(action)"
        let actor = BearerToken.operatorHeader(request) ?? "api"
        let target = String(id.prefix(200))
        var detail: [String: String] = ["remote": request.remoteAddress, "via": "api-gateway"]
        do {
            try token.authorize(request)
            guard let agentToken = improvementToken, !agentToken.isEmpty else {
                throw HTTPError(.serviceUnavailable, code: "not_configured",
                                message: "experiment commands are disabled: set IMPROVEMENT_API_TOKEN (or IMPROVEMENT_API_TOKEN_FILE) on the gateway")
            }
            guard let base = agentURL else {
                throw HTTPError(.serviceUnavailable, code: "not_configured",
                                message: "experiment commands need the continuous-improvement agent in AGENT_URLS")
            }
            try request.refuseQuery()
            if !request.body.isEmpty, JSONCheck.shape(request.body) == nil {
                throw HTTPError.badRequest("body must be JSON like {\"reason\": \"…\"}", code: "invalid_body")
            }
            try HTTPJSON.refuseUnknownFields(request.body, allowed: ["reason"])
            let path = id.percentEncoded(keeping: "-._~")
            let answer: HTTPClientResponse
            do {
                answer = try HTTPClient(timeout: timeout, maxResponseBytes: 1024 * 1024).post(
                    "\(base)/api/v1/experiments/\(path)/\(action)", body: request.body,
                    headers: ["Authorization": "Bearer \(agentToken)", "X-Operator": actor, "X-Forwarded-By": "api-gateway",
                              "X-Forwarded-For": request.remoteAddress])
            } catch {
                detail["error"] = "\(error)"
                throw HTTPError(.badGateway, code: "agent_unreachable",
                                message: "the continuous-improvement agent at \(base) cannot be reached")
            }
            guard JSONCheck.shape(answer.body) != nil else {
                throw HTTPError(.badGateway, code: "agent_invalid_answer",
                                message: "the continuous-improvement agent answered \(answer.status) without a JSON body")
            }
            detail["agentStatus"] = String(answer.status)
            if !(200..<300).contains(answer.status) {
                detail["error"] = String(answer.text.prefix(500))
            }
            // The operator's token was accepted above: the agent refusing ours is the gateway's
            // configuration, not the operator's (whose dashboard would forget a good token on a 401).
            if answer.status == 401 || answer.status == 403 {
                throw HTTPError(.badGateway, code: "agent_refused_gateway",
                                message: "the continuous-improvement agent refused the gateway's own token (\(answer.status)): "
                                    + "IMPROVEMENT_API_TOKEN on the gateway differs from the agent's")
            }
            // One row per attempt: the agent's, when it wrote one (it says so), else ours.
            if answer.headers["X-Audit-Recorded"] != "true" {
                audit.record(actor: actor, action: name, target: target,
                             result: (200..<300).contains(answer.status) ? "ok" : "refused by agent: \(answer.status)", detail: detail)
            }
            logger.notice("experiment command", traceId: target, ["action": action, "experiment": target, "by": actor,
                                                                  "agent_status": String(answer.status)])
            return .bytes(answer.body, contentType: "application/json", status: HTTPStatus(answer.status))
        } catch let e as HTTPError {
            detail["error"] = detail["error"] ?? e.message
            audit.record(actor: actor, action: name, target: target,
                         result: e.status == .badGateway ? "failed: \(e.code)" : "refused: \(e.code)", detail: detail)
            logger.warning("experiment command refused", ["action": action, "experiment": target, "by": actor, "code": e.code])
            throw e
        }
    }
}
