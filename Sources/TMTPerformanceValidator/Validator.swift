import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTStagingTools
import TMTTrading

struct ValidatorOptions {
    var rate: Double
    var duration: Double
    var signalsPerSecond: Double
    var scenarioMinutes: Double
    /// `--market-speed`: simulated seconds per real second (nil: derived, see `Validator.pace`).
    var marketSpeedOption: Double?
    var drain: Double
    var warmup: Double
    var marketTime: String
    var seed: UInt64
    var jsonPath: String?
    var reportDirectory: String?
    var enforceSLA: Bool
    /// `--flatten`: close the accounts' open positions before the run.
    var flatten: Bool
    /// `--keep-accounts` (or `--flatten`): do not restart the accounts before the run (a new day only).
    var keepAccounts: Bool
    /// `--keep-breakers`: leave halted instrument breakers as they are (default: reset them first).
    var keepBreakers: Bool
    /// `--accounts`: the accounts the synthetic signals go to (default every account).
    var accounts: [String]?
    /// `--signal-accounts all`: each synthetic signal names every account (one order each, as
    /// Wyckoff's signals do); `one` (default): one account per signal, round robin.
    var signalToAll: Bool

    init(_ arguments: [String]) throws {
        let a = try ToolArguments(arguments, valued: ["--rate", "--duration", "--signals-per-second", "--scenario-minutes", "--drain", "--warmup",
                                                      "--market-time", "--seed", "--json", "--report-dir", "--accounts", "--market-speed", "--signal-accounts"], switches: ["--no-sla", "--flatten", "--keep-accounts", "--keep-breakers"])
        rate = try a.double("--rate", default: 1000, range: 1...50_000)
        duration = try a.double("--duration", default: 30, range: 1...3600)
        signalsPerSecond = try a.double("--signals-per-second", default: 5, range: 0...500)
        scenarioMinutes = try a.double("--scenario-minutes", default: 30, range: 0.5...120)
        marketSpeedOption = a.has("--market-speed") ? try a.double("--market-speed", default: 1, range: 0.1...10_000) : nil
        drain = try a.double("--drain", default: 30, range: 0...600)
        warmup = try a.double("--warmup", default: 5, range: 0...600)
        guard warmup < duration else { throw ToolUsageError("--warmup (\(warmup) s) must be shorter than --duration (\(duration) s)") }
        marketTime = a.string("--market-time") ?? "weekday"
        _ = try MarketTime.parse(marketTime, now: Date())
        seed = UInt64(try a.int("--seed", default: 42, range: 0...Int(Int32.max)))
        jsonPath = a.string("--json")
        reportDirectory = a.string("--report-dir")
        enforceSLA = !a.has("--no-sla")
        flatten = a.has("--flatten")
        // Flattening keeps the accounts (a restart would drop the positions anyway).
        keepAccounts = a.has("--keep-accounts") || flatten
        keepBreakers = a.has("--keep-breakers")
        switch a.string("--signal-accounts") ?? "one" {
        case "one": signalToAll = false
        case "all": signalToAll = true
        case let other: throw ToolUsageError("--signal-accounts: '\(other)' is neither one nor all")
        }
        if let list = a.string("--accounts") {
            accounts = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !accounts!.isEmpty else { throw ToolUsageError("--accounts: empty list") }
        }
    }
}

/// The stack is not set up for a performance run (exit 2, nothing driven).
struct ValidatorRefusal: Error, CustomStringConvertible {
    var description: String
}

final class Validator: @unchecked Sendable {
    static let hopAgent = "performance-validator"

    let options: ValidatorOptions
    let endpoints: StackEndpoints
    let logger: Logger
    let pool: PostgresPool
    let producer: KafkaProducer
    /// Ticks' producer: on the market-data cluster when one is set (KAFKA_MARKET_BOOTSTRAP_*).
    let tickProducer: KafkaProducer
    let accounts: [String]
    let runId: String
    let http = HTTPClient(timeout: 10)

    private let stopping = Atomic<Bool>(false)
    /// Set when the measured load begins: the tick loop switches to the scripted market.
    private let scriptsGo = Atomic<Bool>(false)
    private let ticksSent = Atomic<Int>(0)
    private let signalsSent = Atomic<Int>(0)
    private let sendFailures = Atomic<Int>(0)
    private let latest = Locked<[String: Tick]>([:])
    private let apiLatencies = Locked<[Double]>([])
    private let apiErrors = Atomic<Int>(0)
    /// When the run's simulated market starts (resolved against the stack's clock).
    private var marketStart = Date()
    /// Where it starts: the stack's newest prices.
    private var startPrices: [String: Decimal] = [:]

    init(options: ValidatorOptions, endpoints: StackEndpoints, logger: Logger) throws {
        self.options = options
        self.endpoints = endpoints
        self.logger = logger
        let env = Environment()
        guard env.string("DATABASE_URL") != nil else { throw ValidatorRefusal(description: "DATABASE_URL is not set (eval \"$(deploy-staging.sh --env)\")") }
        pool = try PostgresPool(configuration: PostgresConfiguration(environment: env, key: "DATABASE_URL"), metrics: MetricsRegistry(), logger: logger)
        // The stack's own settings (KAFKA_LINGER_MS, KAFKA_MARKET_LINGER_MS): the synthetic signals
        // and ticks are produced as Wyckoff's and the generator's are.
        let kafka = try KafkaConfiguration.fromEnvironment(env, clientId: "performance-validator")
        producer = try KafkaProducer(configuration: kafka, metrics: MetricsRegistry(), logger: logger)
        producer.prepare(topics: [Topic.signalsGenerated.name])
        tickProducer = kafka.hasSeparateMarketData || kafka.marketLingerMs != kafka.lingerMs ? try KafkaProducer(configuration: kafka.forMarketData(), metrics: MetricsRegistry(), logger: logger)
            : producer
        tickProducer.prepare(topics: [Topic.marketTicks.name])
        let known = try pool.query("SELECT id FROM accounts ORDER BY id").map { try $0.decode(String.self, column: "id") }
        if let wanted = options.accounts {
            let missing = wanted.filter { !known.contains($0) }
            guard missing.isEmpty else { throw ValidatorRefusal(description: "--accounts: \(missing.joined(separator: ", ")) not in the trading database") }
            accounts = wanted
        } else {
            accounts = known
        }
        runId = "perf-\(Int(Date().timeIntervalSince1970))-\(UInt16.random(in: 0...UInt16.max))"
    }

    /// Simulated seconds per real second: `--market-speed`, or fast enough that the scripted
    /// scenarios (`scenarioMinutes` × 145 s: range, spring or upthrust, markup or markdown) play
    /// out within the measured part of the run, within `SimulatedPace`'s bounds.
    var pace: SimulatedPace {
        if let chosen = options.marketSpeedOption { return SimulatedPace(speed: chosen, rate: options.rate) }
        let script = scenarios.map { $0.startOffset + $0.duration }.max() ?? 0
        return SimulatedPace.fitting(scriptSeconds: script, into: options.duration - options.warmup, rate: options.rate)
    }

    /// The six scripts, one per instrument, each starting `Self.scriptStagger` of market time after
    /// the previous: in step, all six springs and upthrusts closed on the same bar and their
    /// signals queued behind each other at ARIA (a burst no market produces on schedule).
    var scenarios: [WyckoffScenario] {
        let minutes = options.scenarioMinutes
        return [("EUR_USD", true), ("GBP_USD", false), ("USD_JPY", true), ("AUD_USD", false), ("XAU_USD", true), ("US30", false)]
            .enumerated().map { i, s in
                let offset = Double(i) * Self.scriptStagger
                return s.1 ? .accumulation(symbol: s.0, minutes: minutes, startOffset: offset)
                    : .distribution(symbol: s.0, minutes: minutes, startOffset: offset)
            }
    }

    /// Market seconds between the starts of consecutive scripts (two one-minute bars).
    static let scriptStagger = 120.0

    /// The services measured: every agent and the gateway.
    var services: [StackEndpoints.Agent] { endpoints.agents + [StackEndpoints.Agent(name: "api-gateway", url: endpoints.gateway)] }

    func run() throws -> Int32 {
        try preflight()
        let (start, note) = try MarketTime.resolve(options.marketTime, endpoints: endpoints)
        marketStart = start
        if let note { print("performance-validator: \(note)") }
        startPrices = StackPrices.latest(logger: logger)
        print("performance-validator: run \(runId): \(Int(options.rate)) ticks/s and \(options.signalsPerSecond) signals/s for \(Int(options.duration)) s, "
            + "accounts \(accounts.joined(separator: ", ")), market time from \(Logger.timestamp(marketStart)) at "
            + String(format: "%.0f", pace.speed) + "× real time (\(Int(options.scenarioMinutes))-minute Wyckoff scripts)")
        var finished = 0
        let done = DispatchSemaphore(value: 0)
        // Ticks first: closing the accounts' positions needs prices.
        Thread.detachNewThread { [self] in tickLoop(); done.signal() }
        do { try startClean() } catch {
            stopping.store(true, ordering: .relaxed)
            done.wait()
            throw error
        }
        let before = try scrapeAll()
        scriptsGo.store(true, ordering: .releasing)
        let ticksBefore = ticksSent.load(ordering: .relaxed)
        let startedMicros = HopClock.nowMicros()
        let began = Date()
        let loops: [@Sendable () -> Void] = [{ [self] in signalLoop() }, { [self] in apiLoop() }]
        for body in loops {
            Thread.detachNewThread { body(); done.signal() }
        }
        var nextReport = 5.0
        while Date().timeIntervalSince(began) < options.duration {
            Thread.sleep(forTimeInterval: 0.2)
            let elapsed = Date().timeIntervalSince(began)
            if elapsed >= nextReport {
                nextReport += 5
                let ticks = ticksSent.load(ordering: .relaxed) - ticksBefore
                print(String(format: "  … %.0f s: %d ticks (%.0f/s), %d signals sent", elapsed, ticks, Double(ticks) / elapsed,
                             signalsSent.load(ordering: .relaxed)))
                fflush(nil)
            }
        }
        stopping.store(true, ordering: .relaxed)
        while finished < loops.count + 1 { done.wait(); finished += 1 }
        try producer.flush(timeout: 30)
        try tickProducer.flush(timeout: 30)
        let loadSeconds = Date().timeIntervalSince(began)
        let after = scrapeAll(tolerant: true)

        print("  load done in \(String(format: "%.1f", loadSeconds)) s; waiting up to \(Int(options.drain)) s for the run's orders to settle")
        fflush(nil)
        let drainStart = Date()
        var open = 0
        // One order per synthetic signal, or one per account with --signal-accounts all.
        let expected = signalsSent.load(ordering: .relaxed) * (options.signalToAll ? accounts.count : 1)
        repeat {
            open = try openOrders(since: startedMicros)
            // Every synthetic signal has its orders, and none is still moving.
            let placed = try pool.queryOne("SELECT count(*)::bigint AS n FROM orders WHERE id LIKE $1", ["\(runId)-%"])?
                .decode(Int64.self, column: "n") ?? 0
            open += max(0, expected - Int(placed))
            if open == 0 { break }
            Thread.sleep(forTimeInterval: 0.5)
        } while Date().timeIntervalSince(drainStart) < options.drain

        var figures = try analyse(since: startedMicros, loadSeconds: loadSeconds, ticks: ticksSent.load(ordering: .relaxed) - ticksBefore,
                                  before: before, after: after, stillOpen: open)
        // What the run leaves for the next one (an account its losses tripped, say).
        do { figures.breakersAfter = try breakerHalts(tiers: ["system", "agent", "account", "instrument"]).halts } catch {
            print("performance-validator: could not read the breakers' states after the run (\(error))")
        }
        return try conclude(figures)
    }

    // MARK: - Preflight

    private func preflight() throws {
        guard !accounts.isEmpty else { throw ValidatorRefusal(description: "the trading database has no accounts") }
        if let human = endpoints.agents.first(where: { $0.name == "human-behavior" }) {
            let scrape = try MetricsScrape.fetch(human.url)
            guard let scale = scrape.samples.first(where: { $0.name == "tmt_human_delay_scale" })?.value else {
                throw ValidatorRefusal(description: "human-behavior at \(human.url) does not report tmt_human_delay_scale")
            }
            guard scale == 0 else {
                throw ValidatorRefusal(description: "human-behavior runs with HUMAN_DELAY_SCALE=\(scale): its reaction delays and session "
                    + "waits would be measured instead of the pipeline. Deploy with HUMAN_DELAY_SCALE=0 for a performance run.")
            }
        }
        for s in services {
            let r = try http.get(s.url + "/ready")
            guard r.status == 200 else { throw ValidatorRefusal(description: "\(s.name) at \(s.url) is not ready (HTTP \(r.status))") }
        }
    }

    /// The run starts from fresh accounts on a new staging day (with the API token): a run places
    /// hundreds of orders in a fast market, and the next run would measure what the last one left
    /// (a challenge failed on its maximum loss, drawdown breakers, daily limits used up) instead
    /// of the pipeline. So the accounts are restarted (`POST /api/v1/accounts/restart`: initial
    /// balance, no positions or working orders) and a new day started (`POST /api/v1/day/reset`,
    /// which also re-bases the system drawdown). With `--keep-accounts` only the new day; with
    /// `--keep-accounts --flatten` it first closes the accounts'
    /// open positions at the market (`POST /api/v1/breaker/flatten` per account holding any,
    /// which also trips its breaker; the ticks already flow), waits for the closing fills and
    /// resets the breaker: earlier runs' positions swing with the run's fast market and can trip
    /// the breaker's drawdown limits. Not the default: closing every account at the same moment
    /// makes their equity returns move together, and anti-correlation then holds back orders
    /// for its shortest window (five minutes).
    private func startClean() throws {
        guard let token = endpoints.apiToken else {
            print("performance-validator: no API token (TMT_API_TOKEN or TMT_API_TOKEN_FILE): open positions and the accounts' "
                + "daily limits carry over from earlier runs")
            do {
                let halts = try instrumentHalts().halts
                if !halts.isEmpty {
                    print("performance-validator: instrument breakers not normal (new orders on them will be blocked; a reset needs the token): "
                        + halts.map(\.label).joined(separator: "; "))
                }
            } catch {
                print("performance-validator: could not read the breakers' states (\(error)); orders on a halted instrument will be blocked")
            }
            return
        }
        // X-Operator: the audit log names the validator as who restarted, reset or flattened.
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)", "X-Operator": "performance-validator"]
        let client = HTTPClient(timeout: 60)
        let reason = "performance validator \(runId): start flat"
        if options.flatten {
            let holding = try pool.query("SELECT DISTINCT account_id FROM positions WHERE account_id = ANY($1) AND quantity <> 0 ORDER BY account_id",
                                         [accounts]).map { try $0.decode(String.self, column: "account_id") }
            for account in holding {
                let r = try client.postJSON(endpoints.gateway + "/api/v1/breaker/flatten", ["tier": "account", "target": account, "reason": reason],
                                            headers: headers)
                guard r.status == 200 else { throw ValidatorRefusal(description: "POST /api/v1/breaker/flatten for \(account) answered \(r.status): \(r.text.prefix(300))") }
            }
            if !holding.isEmpty {
                let started = Date()
                var open = holding.count
                while Date().timeIntervalSince(started) < 30 {
                    open = Int(try pool.queryOne("SELECT count(*)::bigint AS n FROM positions WHERE account_id = ANY($1) AND quantity <> 0", [holding])?
                        .decode(Int64.self, column: "n") ?? 0)
                    if open == 0 { break }
                    Thread.sleep(forTimeInterval: 0.2)
                }
                for account in holding {
                    let r = try client.postJSON(endpoints.gateway + "/api/v1/breaker/reset", ["tier": "account", "target": account, "reason": reason],
                                                headers: headers)
                    guard r.status == 200 else { throw ValidatorRefusal(description: "POST /api/v1/breaker/reset for \(account) answered \(r.status): \(r.text.prefix(300))") }
                }
                print(String(format: "performance-validator: flattened %@ (%.1f s)%@", holding.joined(separator: ", "), Date().timeIntervalSince(started),
                             open == 0 ? "" : "; \(open) position(s) still open after 30 s"))
            }
        }
        if !options.keepAccounts {
            let started = Date()
            let r = try client.postJSON(endpoints.gateway + "/api/v1/accounts/restart",
                                        AccountsCommand(accounts: options.accounts, reason: "performance validator \(runId): fresh accounts"), headers: headers)
            guard r.status == 200 else { throw ValidatorRefusal(description: "POST /api/v1/accounts/restart answered \(r.status): \(r.text.prefix(300))") }
            print(String(format: "performance-validator: restarted %@ as fresh challenges (POST /api/v1/accounts/restart, %.1f s)",
                         options.accounts == nil ? "every account" : accounts.joined(separator: ", "), Date().timeIntervalSince(started)))
        }
        let r = try client.postJSON(endpoints.gateway + "/api/v1/day/reset", AccountsCommand(accounts: options.accounts, reason: "performance validator \(runId)"),
                                    headers: headers)
        guard r.status == 200 else { throw ValidatorRefusal(description: "POST /api/v1/day/reset answered \(r.status): \(r.text.prefix(300))") }
        print("performance-validator: a new staging day for \(options.accounts == nil ? "every account" : accounts.joined(separator: ", ")) (POST /api/v1/day/reset)")

        // Instruments an earlier tool's prices (a gap the load tester's ticks left, say) or an
        // operator halted: every order on them would be blocked. Reset unless --keep-breakers.
        let halts = try instrumentHalts().halts
        if options.keepBreakers {
            if !halts.isEmpty {
                print("performance-validator: instrument breakers left as they are (--keep-breakers; new orders on them will be blocked): "
                    + halts.map(\.label).joined(separator: "; "))
            }
        } else {
            for halt in halts {
                let r = try client.postJSON(endpoints.gateway + "/api/v1/breaker/reset",
                                            ["tier": "instrument", "target": halt.target, "reason": "performance validator \(runId): instrument open for the run"],
                                            headers: headers)
                guard r.status == 200 else { throw ValidatorRefusal(description: "POST /api/v1/breaker/reset for \(halt.target) answered \(r.status): \(r.text.prefix(300))") }
                print("performance-validator: reset the instrument breaker of \(halt.label)")
            }
        }
    }

    /// The instrument breakers not normal now (`GET /api/v1/breaker`).
    private func instrumentHalts() throws -> BreakerHalts { try breakerHalts(tiers: ["instrument"]) }

    /// The breakers of `tiers` not normal now (`GET /api/v1/breaker`).
    private func breakerHalts(tiers: Set<String>) throws -> BreakerHalts {
        let r = try http.get(endpoints.gateway + "/api/v1/breaker")
        guard r.status == 200 else { throw ValidatorRefusal(description: "GET /api/v1/breaker answered \(r.status): \(r.text.prefix(300))") }
        do { return try BreakerHalts(overview: r.body, tiers: tiers) } catch {
            throw ValidatorRefusal(description: "GET /api/v1/breaker: unexpected answer (\(error)): \(r.text.prefix(300))")
        }
    }

    private func scrapeAll() throws -> [String: MetricsScrape] {
        var out: [String: MetricsScrape] = [:]
        for s in services { out[s.name] = try MetricsScrape.fetch(s.url) }
        return out
    }

    /// After the load: a service that does not answer is reported and left out of the figures.
    private func scrapeAll(tolerant: Bool) -> [String: MetricsScrape] {
        var out: [String: MetricsScrape] = [:]
        for s in services {
            do { out[s.name] = try MetricsScrape.fetch(s.url) } catch {
                print("performance-validator: \(s.name)'s /metrics did not answer after the load (\(error)); it is left out of the resource figures")
            }
        }
        return out
    }

    // MARK: - Load

    private func hop() -> [Hop] {
        let now = HopClock.nowMicros()
        return [Hop(agent: Self.hopAgent, inMicros: now, outMicros: now)]
    }

    /// Ticks at `rate` until the run stops: plain ticks while the run gets ready (closing
    /// positions with `--flatten` can take seconds, which at this pace is most of a script), then,
    /// once `scriptsGo` is set, the seeded scripts from where the plain ticks left off.
    private func tickLoop() {
        var simulator = MarketSimulator(.init(seed: options.seed, startMicros: Int64(marketStart.timeIntervalSince1970 * 1_000_000),
                                              profiles: StackPrices.starting(pace.profiles, at: startPrices)))
        var scripted = false
        let began = Monotonic.nanos()
        let interval = 1e9 / options.rate
        var sent = 0
        while !stopping.load(ordering: .relaxed) {
            let due = began + UInt64(Double(sent) * interval)
            let now = Monotonic.nanos()
            if due > now + 200_000 { usleep(UInt32(min((due - now) / 1000, 100_000))); continue }
            if !scripted, scriptsGo.load(ordering: .acquiring) {
                scripted = true
                let last = latest.withLock { $0 }
                var prices = startPrices
                for (symbol, t) in last { prices[symbol] = (t.bid + t.ask) / 2 }
                let from = (last.values.map(\.time).max() ?? Int64(marketStart.timeIntervalSince1970 * 1_000_000)) + 1
                simulator = MarketSimulator(.init(seed: options.seed, startMicros: from, profiles: StackPrices.starting(pace.profiles, at: prices),
                                                  scenarios: scenarios))
            }
            let tick = simulator.next()
            latest.withLock { $0[tick.instrument] = tick }
            let id = "\(tick.instrument)-\(tick.time)-\(runId)"
            do {
                _ = try tickProducer.send(Envelope(id: id, type: "market.tick", traceId: id, source: Self.hopAgent, hops: hop(), payload: tick),
                                      to: .marketTicks, key: tick.instrument)
            } catch {
                sendFailures.add(1, ordering: .relaxed)
                usleep(1000)
                continue
            }
            sent += 1
            ticksSent.store(sent, ordering: .relaxed)
        }
    }

    private func signalLoop() {
        guard options.signalsPerSecond > 0 else { return }
        let instruments = ["EUR_USD", "GBP_USD", "USD_JPY", "AUD_USD", "XAU_USD", "US30"]
        let began = Monotonic.nanos()
        let interval = 1e9 / options.signalsPerSecond
        var n = 0
        while !stopping.load(ordering: .relaxed) {
            let due = began + UInt64(Double(n) * interval)
            let now = Monotonic.nanos()
            if due > now + 200_000 { usleep(UInt32(min((due - now) / 1000, 100_000))); continue }
            // One account per signal (round robin) or every account per signal; either way each
            // account alternates sides per instrument, so its positions net out over the run.
            let perRound = options.signalToAll ? 1 : accounts.count
            let addressed = options.signalToAll ? accounts : [accounts[n % accounts.count]]
            let instrument = instruments[(n / perRound) % instruments.count]
            let side: Side = (n / (perRound * instruments.count)) % 2 == 0 ? .buy : .sell
            n += 1
            guard let (quote, marketNow) = latest.withLock({ l in l[instrument].map { ($0, l.values.map(\.time).max() ?? $0.time) } }),
                  let spec = Instrument.catalog[instrument] else { continue }
            let entry = side == .buy ? quote.ask : quote.bid
            // Stops 5 % of the price away make small sizes (ARIA sizes for a fixed risk at the
            // stop) that the run's moves barely touch: the load's hundreds of round trips cost
            // little and are not stopped out, so the accounts stay clear of their loss limits
            // and the breaker's drawdown trips (which would end the run's fills). A fixed number
            // of pips was 0.1 % of gold's price and 0.5 % of the index's, and stopped out often
            // once the market runs at many times real time.
            let distance = max(DecimalText.round(entry / 20, spec.pricePrecision), (quote.ask - quote.bid) * 50)
            let signal = Signal(id: "\(runId)-\(n)", instrument: instrument, side: side, entry: entry,
                                stopLoss: side == .buy ? entry - distance : entry + distance,
                                takeProfit: side == .buy ? entry + 2 * distance : entry - 2 * distance,
                                confidence: 0.6, pattern: "performance-validator", phase: "test", evidence: ["run": runId],
                                // Market time, as a Wyckoff signal's (its bar's close): the stack's
                                // market runs ahead of the wall clock, and a wall-clock time sent
                                // ARIA's bar history back and forth between the two moments (a
                                // full re-read each time, the tail of the signal → decision SLA).
                                // The newest tick of any instrument, so the times never go back.
                                createdAt: marketNow, accounts: addressed)
            do {
                _ = try producer.send(Envelope(id: signal.id, type: "signal.generated", traceId: signal.id, source: Self.hopAgent,
                                               hops: hop(), payload: signal), to: .signalsGenerated, key: instrument)
                signalsSent.add(1, ordering: .relaxed)
            } catch {
                sendFailures.add(1, ordering: .relaxed)
            }
        }
    }

    private func apiLoop() {
        let paths = ["/health", "/api/v1/accounts", "/api/v1/orders?limit=20", "/api/v1/positions"]
        var i = 0
        while !stopping.load(ordering: .relaxed) {
            let path = paths[i % paths.count]
            i += 1
            let started = Monotonic.nanos()
            do {
                let r = try http.get(endpoints.gateway + path)
                let ms = Monotonic.secondsSince(started) * 1000
                if r.status == 200 { apiLatencies.withLock { $0.append(ms) } } else { apiErrors.add(1, ordering: .relaxed) }
            } catch {
                apiErrors.add(1, ordering: .relaxed)
            }
            usleep(20_000)
        }
    }

    // MARK: - Measurement

    static let terminal = "('filled', 'rejected', 'skipped', 'blocked', 'cancelled', 'expired')"
    static let terminalStatuses: Set<String> = ["filled", "rejected", "skipped", "blocked", "cancelled", "expired"]

    /// Orders of the run not yet at their outcome, except those anti-correlation staggered (they
    /// wait out a deliberate delay of up to a minute).
    private func openOrders(since: Int64) throws -> Int {
        let row = try pool.queryOne("""
            SELECT count(*)::bigint AS n FROM orders o
            WHERE o.hops->0->>'agent' = $1 AND (o.hops->0->>'in')::bigint >= $2 AND o.status NOT IN \(Self.terminal)
              AND coalesce((SELECT (d->'figures'->>'delaySeconds')::float8 FROM jsonb_array_elements(o.decisions) d
                            WHERE d->>'agent' = 'anti-correlation' LIMIT 1), 0) = 0
            """, [Self.hopAgent, since])
        return Int(try row?.decode(Int64.self, column: "n") ?? 0)
    }

    struct Figures {
        var loadSeconds: Double
        var ticksPerSecond: Double
        var signalsSent: Int
        var orders: Int
        var byStatus: [String: Int]
        var stillOpen: Int
        var staggered: Int
        var warmupOrders: Int
        var signalToOutcome: Percentiles?
        var tickToFill: Percentiles?
        /// Wyckoff's orders: the tick that closed the signal's bar … the order's decision.
        var tickToDecision: Percentiles?
        var signalToFill: Percentiles?
        var wyckoffOrders: Int
        var perAgent: [String: Percentiles]
        /// Between agents: the previous agent's out stamp … this agent's in stamp (what the previous
        /// agent does after stamping, e.g. storing the order, then producing, the broker, the fetch).
        var transit: [String: Percentiles]
        var api: Percentiles?
        var apiErrors: Int
        var dbAverageMs: Double?
        var dbP99Ms: Double?
        var dbQueries: Double
        var rssMB: [String: Double]
        /// Proportional set size (shared pages divided among the processes): what the services
        /// occupy together; resident sizes count the shared Swift runtime in every one.
        var pssMB: [String: Double]
        var cpuPercent: [String: Double]
        var cores: Int
        var sendFailures: Int
        /// The run's orders the circuit breaker blocked, by what blocked them (the first failed
        /// check of its decision), most orders first.
        var breakerBlocks: [BreakerBlock]
        /// The breakers not normal once the run's orders settled: what the next run meets.
        var breakersAfter: [BreakerHalts.Halt]? = nil
    }

    private func analyse(since: Int64, loadSeconds: Double, ticks: Int, before: [String: MetricsScrape], after: [String: MetricsScrape],
                         stillOpen: Int) throws -> Figures {
        let rows = try pool.query("""
            SELECT o.status, o.hops::text AS hops,
                   coalesce((SELECT (d->'figures'->>'delaySeconds')::float8 FROM jsonb_array_elements(o.decisions) d
                             WHERE d->>'agent' = 'anti-correlation' LIMIT 1), 0) AS stagger
            FROM orders o WHERE o.hops->0->>'agent' = $1 AND (o.hops->0->>'in')::bigint >= $2
            """, [Self.hopAgent, since])
        var byStatus: [String: Int] = [:]
        var tickToFill: [Double] = [], signalToFill: [Double] = [], signalToOutcome: [Double] = [], tickToDecision: [Double] = []
        var perAgent: [String: [Double]] = [:], transit: [String: [Double]] = [:]
        var staggered = 0, wyckoff = 0, warm = 0
        let measuredFrom = since + Int64(options.warmup * 1_000_000)
        for row in rows {
            let status = try row.decode(String.self, column: "status")
            byStatus[status, default: 0] += 1
            let hops = try PostgresJSON(try row.decode(String.self, column: "hops")).decode([Hop].self)
            guard let first = hops.first, let last = hops.last, hops.count > 1 else { continue }
            let fromWyckoff = hops[1].agent == "wyckoff-analysis"
            if fromWyckoff { wyckoff += 1 }
            // The warm-up (consumers' first fetches, the producers' first metadata) is left out.
            if first.outMicros < measuredFrom {
                warm += 1
                continue
            }
            // A deliberate hold (anti-correlation's stagger, which human behaviour waits out) is
            // not processing time: such orders are counted, not measured.
            if try row.decode(Double.self, column: "stagger") > 0 {
                staggered += 1
                continue
            }
            for h in hops.dropFirst() { perAgent[h.agent, default: []].append(Double(h.outMicros - h.inMicros) / 1000) }
            for (from, to) in zip(hops, hops.dropFirst()) { transit[to.agent, default: []].append(Double(to.inMicros - from.outMicros) / 1000) }
            let signalSent = fromWyckoff ? hops[1].outMicros : first.outMicros
            guard Self.terminalStatuses.contains(status) else { continue }
            // The decision: the last verdict before the paper market (the breaker's clearance,
            // or whichever agent ended the order earlier). The fill then waits for the fill
            // model's simulated market latency and the next tick, measured below as signal→fill.
            let decided = last.agent == "execution-engine" && hops.count > 2 ? hops[hops.count - 2] : last
            signalToOutcome.append(Double(decided.outMicros - signalSent) / 1000)
            if fromWyckoff { tickToDecision.append(Double(decided.outMicros - first.outMicros) / 1000) }
            guard status == "filled", last.agent == "execution-engine" else { continue }
            signalToFill.append(Double(last.outMicros - signalSent) / 1000)
            if fromWyckoff { tickToFill.append(Double(last.outMicros - first.outMicros) / 1000) }
        }

        var dbBefore = MetricsScrape.Histogram(buckets: [:], sum: 0, count: 0), dbAfter = dbBefore
        var rss: [String: Double] = [:], pss: [String: Double] = [:], cpu: [String: Double] = [:]
        for s in services {
            guard let b = before[s.name], let a = after[s.name] else { continue }
            let ha = a.histogram("tmt_db_query_duration_seconds")
            let hb = ha.count >= b.histogram("tmt_db_query_duration_seconds").count ? b.histogram("tmt_db_query_duration_seconds")
                : MetricsScrape.Histogram() // restarted during the run
            for (k, v) in hb.buckets { dbBefore.buckets[k, default: 0] += v }
            for (k, v) in ha.buckets { dbAfter.buckets[k, default: 0] += v }
            dbBefore.sum += hb.sum; dbBefore.count += hb.count
            dbAfter.sum += ha.sum; dbAfter.count += ha.count
            rss[s.name] = a.sum("process_resident_memory_bytes") / 1_048_576
            pss[s.name] = a.sum("tmt_process_proportional_memory_bytes") / 1_048_576
            // A counter that went down means the process restarted: its value now is the increase.
            let cpuAfter = a.sum("process_cpu_seconds_total"), cpuBefore = b.sum("process_cpu_seconds_total")
            cpu[s.name] = (cpuAfter >= cpuBefore ? cpuAfter - cpuBefore : cpuAfter) / loadSeconds * 100
        }
        let db = dbAfter.minus(dbBefore)
        let blocks = try breakerBlocks(since: since)
        let cores = Int(ProcessInfo.processInfo.environment["CPU_CORES"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
        return Figures(loadSeconds: loadSeconds, ticksPerSecond: Double(ticks) / loadSeconds,
                       signalsSent: signalsSent.load(ordering: .relaxed), orders: rows.count, byStatus: byStatus, stillOpen: stillOpen,
                       staggered: staggered, warmupOrders: warm, signalToOutcome: Percentiles(signalToOutcome), tickToFill: Percentiles(tickToFill), tickToDecision: Percentiles(tickToDecision), signalToFill: Percentiles(signalToFill), wyckoffOrders: wyckoff,
                       perAgent: perAgent.compactMapValues { Percentiles($0) }, transit: transit.compactMapValues { Percentiles($0) }, api: Percentiles(apiLatencies.withLock { $0 }),
                       apiErrors: apiErrors.load(ordering: .relaxed), dbAverageMs: db.mean.map { $0 * 1000 },
                       dbP99Ms: db.quantile(0.99).map { $0 * 1000 }, dbQueries: db.count, rssMB: rss, pssMB: pss, cpuPercent: cpu, cores: cores,
                       sendFailures: sendFailures.load(ordering: .relaxed), breakerBlocks: blocks)
    }

    /// What the circuit breaker blocked the run's orders for: each blocked order's first failed
    /// breaker check, grouped by check and by what it concerns.
    private func breakerBlocks(since: Int64) throws -> [BreakerBlock] {
        // Each order's first failed check, then the orders in the order they were sent.
        let rows = try pool.query("""
            SELECT * FROM (
              SELECT DISTINCT ON (o.id) o.instrument, o.account_id, c->>'rule' AS rule, c->>'detail' AS detail,
                     (o.hops->0->>'in')::bigint AS sent
              FROM orders o, jsonb_array_elements(o.decisions) d, jsonb_array_elements(d->'checks') WITH ORDINALITY AS c(c, n)
              WHERE o.hops->0->>'agent' = $1 AND (o.hops->0->>'in')::bigint >= $2 AND o.status = 'blocked'
                AND d->>'agent' = 'circuit-breaker' AND c->>'passed' = 'false'
              ORDER BY o.id, n) firsts
            ORDER BY sent
            """, [Self.hopAgent, since])
        return try BreakerBlock.group(rows.map { row in
            (rule: try row.decode(String.self, column: "rule"), instrument: try row.decode(String.self, column: "instrument"),
             account: try row.decode(String.self, column: "account_id"), detail: try row.decode(String.self, column: "detail"))
        })
    }

    // MARK: - Verdict

    private func conclude(_ f: Figures) throws -> Int32 {
        let statuses = f.byStatus.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        func ms(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "n/a" }
        func row(_ name: String, _ p: Percentiles?) -> String {
            guard let p else { return "| \(name) | 0 | n/a | n/a | n/a | n/a |" }
            return "| \(name) | \(p.count) | \(ms(p.p50)) | \(ms(p.p95)) | \(ms(p.p99)) | \(ms(p.max)) |"
        }
        let rssTotal = f.rssMB.values.reduce(0, +)
        let pssTotal = f.pssMB.values.reduce(0, +)
        let cpuTotal = f.cpuPercent.values.reduce(0, +) / Double(max(f.cores, 1))
        var lines: [String] = []
        lines.append("")
        lines.append("### Performance — \(Int(options.rate)) ticks/s, \(options.signalsPerSecond) signals/s, \(Int(options.duration)) s, seed \(options.seed)")
        lines.append("")
        lines.append(String(format: "ticks sent %.0f/s over %.1f s; %d signals sent; %d orders (%@); left out of the latencies: %d from the first %.0f s (warm-up), %d staggered by anti-correlation; %d still open; %d send failures",
                            f.ticksPerSecond, f.loadSeconds, f.signalsSent, f.orders,
                            statuses,
                            f.warmupOrders, options.warmup, f.staggered, f.stillOpen, f.sendFailures))
        if !f.breakerBlocks.isEmpty {
            lines.append("blocked by the circuit breaker: " + BreakerBlock.describe(f.breakerBlocks))
        }
        if let after = f.breakersAfter, !after.isEmpty {
            lines.append("breakers not normal after the run (the next run meets them; the validator resets instruments only): "
                + after.map(\.label).joined(separator: "; "))
        }
        lines.append("")
        lines.append("| latency (ms) | n | p50 | p95 | p99 | max |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        lines.append(row("tick → fill (Wyckoff's signals)", f.tickToFill))
        lines.append(row("tick → decision (Wyckoff's signals)", f.tickToDecision))
        lines.append(row("signal → decision (cleared or ended)", f.signalToOutcome))
        lines.append(row("signal → fill", f.signalToFill))
        lines.append(row("gateway reads (client)", f.api))
        for agent in f.perAgent.keys.sorted() { lines.append(row("inside \(agent)", f.perAgent[agent])) }
        for agent in f.transit.keys.sorted() { lines.append(row("hop into \(agent)", f.transit[agent])) }
        lines.append("")
        lines.append("| service | resident MB | proportional MB | CPU % of one core |")
        lines.append("|---|---:|---:|---:|")
        for s in services.map(\.name) {
            lines.append(String(format: "| %@ | %.1f | %.1f | %.1f |", s, f.rssMB[s] ?? 0, f.pssMB[s] ?? 0, f.cpuPercent[s] ?? 0))
        }
        lines.append(String(format: "| **total** | %.1f | %.1f | %.1f %% of %d cores |", rssTotal, pssTotal, cpuTotal, f.cores))
        lines.append("(resident counts the shared libraries (Swift runtime, FoundationEssentials, librdkafka, libpq, OpenSSL) in every service; proportional divides them: its total is the memory the services occupy together)")
        lines.append("")
        lines.append(String(format: "database: %.0f queries, average %@ ms, p99 ≈ %@ ms (bucket estimate)", f.dbQueries, ms(f.dbAverageMs), ms(f.dbP99Ms)))
        print(lines.joined(separator: "\n"))

        // The seed's SLAs.
        let report = ToolReport(tool: "performance-validator")
        /// A p95 from fewer samples than this rests on the few slowest of them: the verdict is
        /// printed with the sample size and marked indicative.
        let fewSamples = 100
        func sla(_ name: String, _ value: Double?, below limit: Double, unit: String, samples: Int? = nil) {
            report.run("sla", name) {
                guard let value else { throw CheckFailure("no samples") }
                var basis = ""
                if let samples {
                    basis = " (\(samples) samples" + (samples < fewSamples
                        ? "; fewer than \(fewSamples): indicative only, a longer run or more signals pins the p95 down)" : ")")
                }
                try check(value < limit, String(format: "%.2f %@ ≥ %.0f %@", value, unit, limit, unit) + basis)
                return String(format: "%.2f %@ < %.0f %@", value, unit, limit, unit) + basis
            }
        }
        print("")
        sla("gateway read p95 < 100 ms", f.api?.p95, below: 100, unit: "ms", samples: f.api?.count)
        sla("signal processing p95 < 50 ms (signal → each order's decision)", f.signalToOutcome?.p95, below: 50, unit: "ms",
            samples: f.signalToOutcome?.count)
        sla("database average < 10 ms", f.dbAverageMs, below: 10, unit: "ms")
        sla("resident memory, all services < 8 GB", rssTotal, below: 8192, unit: "MB")
        sla("CPU < 70 % of the machine", cpuTotal, below: 70, unit: "%")
        report.run("run", "orders filled") {
            let filled = f.byStatus["filled", default: 0]
            let blocked = f.breakerBlocks.reduce(0) { $0 + $1.orders }
            try check(f.orders == 0 || filled > 0,
                      "none of the run's \(f.orders) orders was filled (\(statuses)), so the fill latencies measure nothing"
                      + (blocked > 0 ? "; the circuit breaker blocked \(blocked): \(BreakerBlock.describe(f.breakerBlocks))" : ""))
            return "\(filled) of \(f.orders) orders filled" + (blocked > 0 ? "; \(blocked) blocked by the circuit breaker" : "")
        }
        report.run("sla", "every order of the run settled") {
            try check(f.stillOpen == 0, "\(f.stillOpen) orders (not staggered) still open \(Int(options.drain)) s after the load")
            return "\(f.orders) orders settled"
        }
        print(report.summary)

        func pct(_ p: Percentiles?, full: Bool = true) -> Any {
            guard let p else { return NSNull() }
            var o = p.object
            if !full { o["max"] = nil; o["mean"] = nil }
            return o
        }
        let object: [String: Any] = [
            "run": runId,
            "rate": options.rate, "duration_s": options.duration, "signals_per_second": options.signalsPerSecond, "seed": options.seed,
            "ticks_per_s": (f.ticksPerSecond * 10).rounded() / 10,
            "market_speed": (pace.speed * 10).rounded() / 10, "scenario_minutes": options.scenarioMinutes,
            "signals": f.signalsSent,
            "orders": f.orders,
            "orders_by_status": f.byStatus,
            "breaker_blocks": f.breakerBlocks.map(\.object),
            "breakers_after_run": f.breakersAfter.map { $0.map(\.object) } ?? NSNull(),
            "orders_staggered_excluded": f.staggered,
            "orders_warmup_excluded": f.warmupOrders,
            "warmup_s": options.warmup,
            "signal_to_decision_ms": pct(f.signalToOutcome),
            "orders_still_open": f.stillOpen,
            "wyckoff_orders": f.wyckoffOrders,
            "tick_to_fill_ms": pct(f.tickToFill),
            "tick_to_decision_ms": pct(f.tickToDecision),
            "signal_to_fill_ms": pct(f.signalToFill),
            "api_ms": pct(f.api, full: false),
            "api_errors": f.apiErrors,
            "db_ms": ["avg": f.dbAverageMs.map { ($0 * 1000).rounded() / 1000 } as Any, "p99": f.dbP99Ms.map { ($0 * 1000).rounded() / 1000 } as Any,
                      "queries": f.dbQueries],
            "per_agent_ms": f.perAgent.mapValues { $0.object },
            "transit_ms": f.transit.mapValues { $0.object },
            "rss_mb": f.rssMB.mapValues { ($0 * 10).rounded() / 10 },
            "rss_mb_total": (rssTotal * 10).rounded() / 10,
            "pss_mb": f.pssMB.mapValues { ($0 * 10).rounded() / 10 },
            "pss_mb_total": (pssTotal * 10).rounded() / 10,
            "cpu_percent": f.cpuPercent.mapValues { ($0 * 10).rounded() / 10 },
            "cpu_percent_avg": (cpuTotal * 10).rounded() / 10,
            "cpu_cores": f.cores,
            "sla_failed": report.failed,
        ]
        if let path = options.jsonPath {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path))
            print("figures: \(path)")
        }
        if let dir = options.reportDirectory {
            print("reports: \(try report.write(to: dir, name: "performance-report", extra: ["figures": object]).joined(separator: ", "))")
        }
        return report.failed == 0 || !options.enforceSLA ? ToolExit.passed : ToolExit.failed
    }
}
