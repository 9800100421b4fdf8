import TMTBase
import TMTCore
import TMTPipeline
import TMTTrading

/// The API gateway's wiring: the trading database, Redis, the Kafka producer, the health
/// aggregator, the live stream, the HTTP server on port 8000 serving the route table below, and
/// the Trading Dashboard on port 3000.
///
/// The dashboard port serves the page and, in-process, the same route table as the API port
/// (same handlers, no proxy hop), so the page's calls, its `EventSource` and the bearer token
/// stay same-origin: no CORS, and the dashboard works wherever port 3000 alone is reachable.
///
/// The server is started here rather than with `ServiceRuntime.startHTTP`, because the gateway's
/// `/health` is the aggregated one (the runtime's would be a liveness answer); `/ready` and
/// `/metrics` are the runtime's checks and registry, served the same way.
final class Gateway: Sendable {
    let runtime: ServiceRuntime
    let settings: GatewaySettings
    let queries: TradingQueries
    let breaker: BreakerControl
    let experiments: ExperimentControl
    let dayReset: StagingCommandControl
    let accountRestart: StagingCommandControl
    let agents: AgentOverview
    let health: HealthAggregator
    let compliance: ComplianceConfiguration
    let stream: StreamHub
    let kafka: KafkaConfiguration
    let producer: KafkaProducer

    init(runtime: ServiceRuntime) throws {
        self.runtime = runtime
        let env = Environment()
        let log = runtime.logger
        settings = try GatewaySettings(environment: env, configDirectory: runtime.options.configDirectory)
        compliance = try ComplianceConfiguration.load(path: settings.compliancePath)
        let token = BearerToken(token: try env.secret("TMT_API_TOKEN"), setting: "TMT_API_TOKEN", realm: "tmt-api-gateway")

        let trading = try runtime.openTradingDatabase(env)
        let redis = try RedisClient(url: env.require("REDIS_URL"), metrics: runtime.metrics, logger: log)
        runtime.lifecycle.onShutdown("redis") { redis.close() }
        runtime.health.add("redis") { _ = try redis.execute(.ping()).check(command: "PING") }
        let (kafka, producer) = try runtime.openKafka(env)
        self.kafka = kafka
        self.producer = producer
        // The market database is only probed: a pool opens no connection until used, so the
        // gateway starts (and reports it unhealthy) while TimescaleDB is down.
        var marketPool: PostgresPool?
        if env.string("MARKET_DATABASE_URL") != nil {
            var config = try PostgresConfiguration(environment: env, key: "MARKET_DATABASE_URL")
            config.maxConnections = 2
            config.connectTimeout = min(config.connectTimeout, settings.probeTimeout)
            let pool = try PostgresPool(configuration: config, name: "market", metrics: runtime.metrics, logger: log)
            runtime.lifecycle.onShutdown("market database") { pool.shutdown() }
            marketPool = pool
        }
        let market = marketPool

        queries = TradingQueries(pool: trading)
        let audit = AuditLog(pool: trading, logger: log)
        breaker = BreakerControl(producer: producer, redis: redis, queries: queries, audit: audit,
                                 token: token, snapshotKey: settings.snapshotKey, timeout: settings.commandTimeout, logger: log)
        let improvementToken = try env.secret("IMPROVEMENT_API_TOKEN")
        experiments = ExperimentControl(pool: trading, queries: queries, audit: audit, token: token, improvementToken: improvementToken,
                                        agentURL: settings.improvementAgentURL, timeout: settings.improvementTimeout, logger: log)
        dayReset = StagingCommandControl(action: .dayReset, producer: producer, acks: StagingCommandStore(pool: trading), audit: audit,
                                         token: token, agents: settings.dayResetAgents, timeout: settings.dayResetTimeout, logger: log)
        accountRestart = StagingCommandControl(action: .accountRestart, producer: producer, acks: StagingCommandStore(pool: trading),
                                               audit: audit, token: token, agents: settings.accountRestartAgents,
                                               timeout: settings.accountRestartTimeout, logger: log,
                                               everyAccount: compliance.accounts.map(\.id))
        agents = AgentOverview(agents: settings.agents, timeout: settings.probeTimeout)

        let timeout = settings.probeTimeout
        var probes = settings.agents.map { HealthAggregator.agentProbe($0, timeout: timeout) }
        probes.append(.init(name: "postgres", kind: "database") { try trading.withConnection { try $0.ping() } })
        probes.append(.init(name: "market-db", kind: "database") {
            guard let market else { throw TMTError(.configuration, "MARKET_DATABASE_URL is not set") }
            try market.withConnection { try $0.ping() }
        })
        probes.append(.init(name: "redis", kind: "redis") { _ = try redis.execute(.ping()).check(command: "PING") })
        let kafkaProbe = TCPProbe.Tolerant(kafka.bootstrapServers, timeout: min(timeout, 1))
        probes.append(.init(name: "kafka", kind: "kafka") { try kafkaProbe.check() })
        health = HealthAggregator(probes: probes, timeout: timeout, maxAge: settings.healthCacheSeconds)
        stream = StreamHub(settings: settings, health: health, instanceId: runtime.options.instanceId, metrics: runtime.metrics, logger: log)

        log.info("gateway configured", ["agents": settings.agents.map { "\($0.name)=\($0.url)" }.joined(separator: ","),
                                        "api_token": token.token == nil ? "unset" : "set",
                                        "improvement_api_token": improvementToken == nil ? "unset" : "set", "snapshot_key": settings.snapshotKey,
                                        "compliance": settings.compliancePath])
    }

    /// Starts the HTTP servers (API, then dashboard unless `DASHBOARD_PORT=0`) and the stream's
    /// consumer. Shutdown runs in reverse: the stream stops first (ending every SSE response),
    /// then the servers.
    func start() throws {
        let router = Self.makeRouter(self)
        try serve(router, port: runtime.options.port, name: "http")
        if settings.dashboardPort != 0 {
            var dashboard = router
            Dashboard.addRoutes(to: &dashboard)
            try serve(dashboard, port: settings.dashboardPort, name: "dashboard")
        }
        try stream.start(kafka: kafka, deadLetterProducer: producer, metrics: runtime.metrics)
        runtime.lifecycle.onShutdown("stream", timeout: 15) { [stream] in stream.stop() }
    }

    private func serve(_ router: HTTPRouter, port: Int, name: String) throws {
        var conf = HTTPServerConfiguration(host: runtime.options.host, port: port)
        conf.name = name
        let server = HTTPServer(configuration: conf, router: router, metrics: runtime.metrics, logger: runtime.logger)
        try server.start()
        runtime.logger.info("listening", ["server": name, "address": "\(runtime.options.host):\(server.port)"])
        runtime.lifecycle.onShutdown("\(name) server", timeout: conf.shutdownTimeout + 1) { server.shutdown() }
    }

    /// The `/ready` body.
    struct Readiness: Encodable {
        var status: String
        var service: String
        var checks: [HealthChecks.Result]
    }

    /// The gateway's route table. With `gateway` nil (for `--print-routes`) the handlers are
    /// registered but answer 503; the table is the same.
    static func makeRouter(_ gateway: Gateway?) -> HTTPRouter {
        @Sendable func need() throws -> Gateway {
            guard let gateway else { throw HTTPError.serviceUnavailable("the gateway is not wired") }
            return gateway
        }
        var r = HTTPRouter()
        r.get("/health") { _ in
            let snapshot = try need().health.snapshot()
            return .bytes(snapshot.body, contentType: "application/json",
                          status: snapshot.report.status == "healthy" ? .ok : .serviceUnavailable)
        }
        r.get("/ready") { _ in
            let g = try need()
            let results = g.runtime.health.runAll()
            let ready = results.allSatisfy(\.healthy)
            return try .json(Readiness(status: ready ? "ready" : "not_ready", service: g.runtime.options.service, checks: results),
                             status: ready ? .ok : .serviceUnavailable)
        }
        r.get("/metrics") { _ in
            .text(try need().runtime.metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }

        r.get("/api/v1/stream") { request in
            let g = try need()
            _ = try QueryParameters(request, allowed: [])
            guard g.stream.admits() else {
                throw HTTPError.serviceUnavailable("too many stream clients (\(g.stream.maxClients)); retry later", code: "too_many_streams")
            }
            return .eventStream { [stream = g.stream] writer in try stream.serve(writer) }
        }
        // Concurrent requests share one read (query and body), never one that started before
        // the request arrived (FreshRead): under 50 connections each read served ~all of them.
        let accountsRead = FreshRead<[UInt8]>()
        r.get("/api/v1/accounts") { request in
            let g = try need()
            _ = try QueryParameters(request, allowed: [])
            let body = try accountsRead.get {
                AccountLimitsView.listBody(try AccountLimitsView.load(pool: g.queries.pool, compliance: g.compliance))
            }
            return .bytes(body, contentType: "application/json")
        }
        r.get("/api/v1/accounts/:id/equity") { try need().queries.equity($0.parameter("id") ?? "", $0) }
        r.get("/api/v1/positions") { try need().queries.positions($0) }
        r.get("/api/v1/orders") { try need().queries.orders($0) }
        r.get("/api/v1/orders/:id") { request in
            _ = try QueryParameters(request, allowed: [])
            return try need().queries.order(request.parameter("id") ?? "")
        }
        r.get("/api/v1/orders/:id/trail") { request in
            _ = try QueryParameters(request, allowed: [])
            return try need().queries.trail(request.parameter("id") ?? "")
        }
        r.get("/api/v1/fills") { try need().queries.fills($0) }
        r.get("/api/v1/signals") { try need().queries.signals($0) }
        r.get("/api/v1/compliance/violations") { try need().queries.violations($0) }
        r.get("/api/v1/latency") { try need().queries.latency($0) }
        r.get("/api/v1/breaker") { try need().breaker.overview($0) }
        r.get("/api/v1/agents") { request in
            let g = try need()
            _ = try QueryParameters(request, allowed: [])
            return try .json(g.agents.collect())
        }
        r.get("/api/v1/experiments") { try need().experiments.list($0) }
        r.get("/api/v1/experiments/:id") { request in
            _ = try QueryParameters(request, allowed: [])
            return try need().experiments.experiment(request.parameter("id") ?? "")
        }
        r.get("/api/v1/proposals") { try need().experiments.proposals($0) }

        let limit = gateway?.settings.maxBodyBytes ?? 16 * 1024
        r.post("/api/v1/breaker/trip", maxBodyBytes: limit) { try need().breaker.handle(.trip, $0) }
        r.post("/api/v1/breaker/reset", maxBodyBytes: limit) { try need().breaker.handle(.reset, $0) }
        r.post("/api/v1/breaker/flatten", maxBodyBytes: limit) { try need().breaker.handle(.flatten, $0) }
        r.post("/api/v1/day/reset", maxBodyBytes: limit) { try need().dayReset.handle($0) }
        r.post("/api/v1/accounts/restart", maxBodyBytes: limit) { try need().accountRestart.handle($0) }
        r.post("/api/v1/experiments/:id/approve", maxBodyBytes: limit) {
            try need().experiments.forward("approve", id: $0.parameter("id") ?? "", $0)
        }
        r.post("/api/v1/experiments/:id/stop", maxBodyBytes: limit) {
            try need().experiments.forward("stop", id: $0.parameter("id") ?? "", $0)
        }
        return r
    }
}
