import TMTBase
import TMTModels

extension CircuitBreaker {
    // MARK: - Accounts (daily and system drawdown)

    /// An `accounts.updates` message: re-measures the account's daily drawdown and, once every
    /// reporting account has figures, the system drawdown. The first update of an account since
    /// start or restore confirms its breaker's state.
    ///
    /// A higher `epoch` than the figures held means the account was restarted as a fresh
    /// challenge (`account.restart`): the drawdown baseline an operator accepted goes, and an
    /// account breaker the daily drawdown tripped (tripped, or half-open) is reset — the loss it
    /// measured belonged to the previous challenge. A manual trip stays. An update with a lower
    /// epoch than held is from before the restart and ignored.
    public mutating func apply(account: Account) -> [BreakerEvent] {
        let now = self.now
        let held = accountEpochs[account.id]
        if let held, account.epoch < held { return [] }
        accountEpochs[account.id] = account.epoch
        accountFigures[account.id] = AccountFigures(equity: account.equity, dailyPnL: account.dailyPnL, currency: account.currency)
        reportingAccounts.insert(account.id)
        var events = advanceTimer(.account(account.id), now: now) + advanceTimer(.system, now: now)
        if let held, account.epoch > held { events += restart(account, from: held, now: now) }
        events += observeAccountDrawdown(account.id, now: now)
        events += observeSystemDrawdown(now: now)
        return events
    }

    /// An `executions.fills` message: a good outcome for the account's breaker (counts only in
    /// half-open, with every condition clear).
    public mutating func apply(fill: Fill) -> [BreakerEvent] {
        let now = self.now
        let key = BreakerKey.account(fill.accountId)
        var events = advanceTimer(key, now: now)
        let reason = BreakerReason(cause: .goodOutcomes, detail: "fill \(fill.id) of order \(fill.orderId)")
        let policy = configuration.thresholds.accountRecovery
        if let e = breakers[key]?.recordGoodOutcome(reason, at: now, policy: policy) {
            events.append(e)
        }
        return events
    }

    /// The account's breaker and baseline after a restart (see `apply(account:)`).
    private mutating func restart(_ account: Account, from epoch: Int, now: Int64) -> [BreakerEvent] {
        accountBaselines[account.id] = nil
        let key = BreakerKey.account(account.id)
        guard let b = breakers[key], !b.manual, b.state == .tripped || b.state == .halfOpen else { return [] }
        let detail = "account \(account.id) restarted as a fresh challenge (epoch \(epoch) → \(account.epoch)) at balance "
            + BreakerFormat.money(account.balance)
        let reason = BreakerReason(cause: .accountRestart, detail: detail, figures: ["epoch": String(account.epoch),
                                                                                     "balance": BreakerFormat.exact(account.balance)])
        return [breakers[key]!.reset(reason, at: now)]
    }

    /// The challenge (`Account.epoch`) the breaker's figures of the account are from (kept in
    /// the snapshot); nil before its first update.
    public func accountEpoch(_ id: String) -> Int? { accountEpochs[id] }

    mutating func observeAccountDrawdown(_ id: String, now: Int64) -> [BreakerEvent] {
        guard let f = accountFigures[id] else { return [] }
        let start = f.startOfDayEquity
        if let b = accountBaselines[id], b.startOfDayEquity != start { accountBaselines[id] = nil }
        let key = BreakerKey.account(id)
        let previous = breakers[key]?.conditions[.dailyDrawdown]?.level
        let (level, reason) = drawdownReading(
            label: "daily drawdown", scope: "", cause: .dailyDrawdown, equity: f.equity, start: start,
            baseline: accountBaselines[id], limit: configuration.dailyDrawdownLimit(account: id), previous: previous)
        return observe(key, .dailyDrawdown, level, reason, now: now)
    }

    mutating func observeSystemDrawdown(now: Int64) -> [BreakerEvent] {
        guard !reportingAccounts.isEmpty, reportingAccounts.allSatisfy({ accountFigures[$0] != nil }) else { return [] }
        let figures = reportingAccounts.map { accountFigures[$0]! }
        let start = figures.reduce(Decimal(0)) { $0 + $1.startOfDayEquity }
        let equity = figures.reduce(Decimal(0)) { $0 + $1.equity }
        if let b = systemBaseline, b.startOfDayEquity != start { systemBaseline = nil }
        let previous = breakers[.system]?.conditions[.systemDrawdown]?.level
        let (level, reason) = drawdownReading(
            label: "system drawdown", scope: " across \(figures.count) account\(figures.count == 1 ? "" : "s")",
            cause: .systemDrawdown, equity: equity, start: start, baseline: systemBaseline,
            limit: configuration.thresholds.systemDrawdownPercent, previous: previous)
        return observe(.system, .systemDrawdown, level, reason, now: now)
    }

    /// Loss = (reference − equity)⁺ where the reference is the start-of-day equity, or the
    /// equity an operator accepted at a reset; percent = loss × 100 ÷ start-of-day equity.
    private func drawdownReading(label: String, scope: String, cause: BreakerCause, equity: Decimal, start: Decimal,
                                 baseline: DrawdownBaseline?, limit: Decimal,
                                 previous: BreakerLevel?) -> (BreakerLevel, BreakerReason) {
        let t = configuration.thresholds
        let warning = limit * t.drawdownWarningFraction
        guard start > 0 else {
            let detail = "\(label) cannot be measured: start-of-day equity \(BreakerFormat.money(start))\(scope) is not positive"
            return (.breach, BreakerReason(cause: cause, detail: detail,
                                           figures: ["startOfDayEquity": BreakerFormat.exact(start), "equity": BreakerFormat.exact(equity)]))
        }
        let reference = baseline?.acceptedEquity ?? start
        let loss = max(0, reference - equity)
        let percent = loss * 100 / start
        let level = BreakerLevel.classify(percent, warning: warning, trip: limit, clearBelow: t.clearBelow(warning), previous: previous)
        let since = baseline.map { " since the reset at equity \(BreakerFormat.money($0.acceptedEquity))" } ?? ""
        let measure = "\(label) \(BreakerFormat.percent(percent)) (loss \(BreakerFormat.money(loss))\(since) of start-of-day equity "
            + "\(BreakerFormat.money(start))\(scope))"
        var figures = ["drawdownPercent": BreakerFormat.exact(BreakerFormat.round(percent, 6)), "loss": BreakerFormat.exact(loss),
                       "startOfDayEquity": BreakerFormat.exact(start), "equity": BreakerFormat.exact(equity),
                       "limitPercent": BreakerFormat.exact(limit), "warningPercent": BreakerFormat.exact(warning)]
        if let baseline { figures["acceptedEquity"] = BreakerFormat.exact(baseline.acceptedEquity) }
        let detail = measure + Self.comparison(level, value: percent, warning: warning, trip: limit, clear: t.clearBelow(warning),
                                               format: BreakerFormat.percent)
        return (level, BreakerReason(cause: cause, detail: detail, figures: figures))
    }

    /// ` ≥ limit 4.00 %`, ` ≥ warning 3.20 %`, ` above clear level 2.88 % (warning held)` or
    /// ` below warning 3.20 %`.
    static func comparison<V: Comparable>(_ level: BreakerLevel, value: V, warning: V, trip: V, clear: V,
                                          format: (V) -> String) -> String {
        switch level {
        case .breach: return " ≥ limit \(format(trip))"
        case .warning: return value >= warning ? " ≥ warning \(format(warning))" : " not yet below clear level \(format(clear)) (warning held)"
        case .clear: return " below warning \(format(warning))"
        }
    }

    // MARK: - Heartbeats

    /// An `agents.health` heartbeat, timed by its arrival on the breaker's clock (hosts' clocks
    /// differ): refreshes the agent's heartbeat age and records its instance's status. The agent's
    /// status is its instances' together: clear while every instance heard within the trip age
    /// reports `healthy`, a warning naming those that do not and their failing checks. An instance
    /// reporting `stopping` (a clean shutdown) leaves the set. Agents not in the configuration are
    /// watched from their first heartbeat on.
    public mutating func apply(heartbeat: AgentHeartbeat) -> [BreakerEvent] {
        let now = self.now
        let name = heartbeat.service
        let key = BreakerKey.agent(name)
        let t = configuration.thresholds
        let tripAge = BreakerTime.micros(seconds: t.heartbeatIntervalSeconds * t.heartbeatMissingIntervals)
        var watch = agents[name] ?? AgentWatch(lastHeard: nil, watchingSince: now)
        watch.lastHeard = now
        if heartbeat.status == AgentHeartbeat.stoppingStatus {
            watch.instances[heartbeat.instanceId] = nil
        } else {
            watch.instances[heartbeat.instanceId] = .init(status: heartbeat.status, failingChecks: heartbeat.failingChecks, heard: now)
        }
        watch.instances = watch.instances.filter { now - $0.value.heard < tripAge }
        agents[name] = watch
        var events = advanceTimer(key, now: now)
        let unwell = watch.instances.filter { $0.value.status != "healthy" }.sorted { $0.key < $1.key }
        let detail: String
        if watch.instances.isEmpty {
            detail = "\(name) (\(heartbeat.instanceId)) stopped; no other instance reports"
        } else if unwell.isEmpty {
            let count = watch.instances.count
            detail = "\(name) reports healthy (\(count) instance\(count == 1 ? "" : "s"), last \(heartbeat.instanceId))"
        } else {
            detail = unwell.map { id, report in
                let failing = report.failingChecks.isEmpty ? "" : " (failing: \(report.failingChecks.joined(separator: ", ")))"
                return "\(name) (\(id)) reports \(report.status)\(failing)"
            }.joined(separator: "; ")
        }
        let status = BreakerReason(cause: .agentStatus, detail: detail,
                                   figures: ["status": unwell.first?.value.status ?? "healthy", "instance": unwell.first?.key ?? heartbeat.instanceId,
                                             "instances": String(watch.instances.count), "unhealthyInstances": String(unwell.count)])
        events += observe(key, .agentStatus, unwell.isEmpty ? .clear : .warning, status, now: now)
        events += observeHeartbeatAge(name, now: now)
        return events
    }

    /// The heartbeat-age reading of one agent. An agent never heard since start or restore stays
    /// unknown until its trip time has passed, then trips as missing.
    mutating func observeHeartbeatAge(_ name: String, now: Int64) -> [BreakerEvent] {
        guard let watch = agents[name] else { return [] }
        let t = configuration.thresholds
        let interval = t.heartbeatIntervalSeconds
        let warning = BreakerTime.micros(seconds: interval * t.heartbeatWarningIntervals)
        let trip = BreakerTime.micros(seconds: interval * t.heartbeatMissingIntervals)
        let key = BreakerKey.agent(name)
        let tripText = "\(BreakerFormat.seconds(Double(trip) / 1e6)) (\(BreakerFormat.plain(t.heartbeatMissingIntervals)) × "
            + "\(BreakerFormat.seconds(interval)))"
        let warnText = "\(BreakerFormat.seconds(Double(warning) / 1e6)) (\(BreakerFormat.plain(t.heartbeatWarningIntervals)) × "
            + "\(BreakerFormat.seconds(interval)))"
        guard let last = watch.lastHeard else {
            let waited = now - watch.watchingSince
            guard waited >= trip else { return [] }
            let silent = BreakerFormat.seconds(Double(waited) / 1e6)
            let reason = BreakerReason(cause: .heartbeat,
                                       detail: "no heartbeat from \(name) since watching began \(silent) ago ≥ limit \(tripText)",
                                       figures: ["silentSeconds": BreakerFormat.plain(Double(waited) / 1e6),
                                                 "limitSeconds": BreakerFormat.plain(Double(trip) / 1e6)])
            return observe(key, .heartbeat, .breach, reason, now: now)
        }
        let age = now - last
        let previous = breakers[key]?.conditions[.heartbeat]?.level
        let level = BreakerLevel.classify(age, warning: warning, trip: trip, clearBelow: warning, previous: previous)
        let detail: String
        switch level {
        case .breach: detail = "no heartbeat from \(name) for \(BreakerFormat.seconds(Double(age) / 1e6)) ≥ limit \(tripText)"
        case .warning: detail = "no heartbeat from \(name) for \(BreakerFormat.seconds(Double(age) / 1e6)) ≥ warning \(warnText)"
        case .clear: detail = "last heartbeat from \(name) \(BreakerFormat.seconds(Double(age) / 1e6)) ago"
        }
        let reason = BreakerReason(cause: .heartbeat, detail: detail,
                                   figures: ["silentSeconds": BreakerFormat.plain(Double(age) / 1e6),
                                             "warningSeconds": BreakerFormat.plain(Double(warning) / 1e6),
                                             "limitSeconds": BreakerFormat.plain(Double(trip) / 1e6)])
        return observe(key, .heartbeat, level, reason, now: now)
    }

    // MARK: - Errors and DLQ

    /// One error or DLQ message (id de-duplicated within the window): counts toward the system
    /// rate and, when `origin` is a watched agent, toward that agent's rate.
    public mutating func recordError(id: String, origin: String?) -> [BreakerEvent] {
        let now = self.now
        let t = configuration.thresholds
        guard systemErrors.add(1, at: now, id: id) else { return [] }
        var events = advanceTimer(.system, now: now) + observeErrorRate(agent: nil, now: now)
        if let origin, breakers[.agent(origin)] != nil {
            agentErrors[origin, default: BreakerSampleWindow(windowSeconds: t.errorWindowSeconds)].add(1, at: now, id: id)
            events += advanceTimer(.agent(origin), now: now) + observeErrorRate(agent: origin, now: now)
        }
        return events
    }

    /// Errors per minute = count in the window × 60 ÷ window seconds.
    mutating func observeErrorRate(agent: String?, now: Int64) -> [BreakerEvent] {
        let t = configuration.thresholds
        let key = agent.map(BreakerKey.agent) ?? .system
        let count: Int
        if let agent {
            guard agentErrors[agent] != nil else { return [] }
            agentErrors[agent]!.prune(now: now)
            count = agentErrors[agent]!.count
        } else {
            systemErrors.prune(now: now)
            count = systemErrors.count
        }
        let rate = Double(count) * 60 / t.errorWindowSeconds
        let warning = agent == nil ? t.systemErrorsPerMinuteWarning : t.agentErrorsPerMinuteWarning
        let trip = agent == nil ? t.systemErrorsPerMinuteTrip : t.agentErrorsPerMinuteTrip
        let previous = breakers[key]?.conditions[.errorRate]?.level
        let level = BreakerLevel.classify(rate, warning: warning, trip: trip, clearBelow: t.clearBelow(warning), previous: previous)
        let who = agent.map { "\($0) error rate" } ?? "error/DLQ rate"
        let detail = "\(who) \(BreakerFormat.perMinute(rate)) (\(count) in the last \(BreakerFormat.seconds(t.errorWindowSeconds)))"
            + Self.comparison(level, value: rate, warning: warning, trip: trip, clear: t.clearBelow(warning), format: BreakerFormat.perMinute)
        let reason = BreakerReason(cause: .errorRate, detail: detail,
                                   figures: ["perMinute": BreakerFormat.plain(rate), "count": "\(count)",
                                             "windowSeconds": BreakerFormat.plain(t.errorWindowSeconds),
                                             "warningPerMinute": BreakerFormat.plain(warning), "limitPerMinute": BreakerFormat.plain(trip)])
        guard breakers[key] != nil else { return [] }
        return observe(key, .errorRate, level, reason, now: now)
    }

    // MARK: - Latency

    /// The latency of one order from its hops: each agent's processing time (out − in) goes to
    /// that agent's window, and the pipeline transit (first in to last out, minus the processing
    /// of `latencyExemptAgents`, whose holds are deliberate) to the system's. Hops of agents not
    /// watched still count in the transit. Negative spans (clock skew between hosts) count as 0.
    /// An order whose first hop is before `latencyCountsFromMicros` gives no transit sample (it is
    /// counted in `latencySamplesSkipped`), and its hops before that instant no agent samples;
    /// its later hops (agents that handled it since) count as usual.
    public mutating func recordLatency(orderId: String, hops: [Hop]) -> [BreakerEvent] {
        guard let first = hops.first, let last = hops.last else { return [] }
        let exempt = configuration.thresholds.latencyExemptAgents
        var events: [BreakerEvent] = []
        var held = 0.0
        for hop in hops {
            let seconds = max(0, hop.processingSeconds)
            if exempt.contains(hop.agent) {
                held += seconds
            } else if hop.inMicros >= latencyCountsFromMicros, breakers[.agent(hop.agent)] != nil {
                events += recordLatency(id: "\(orderId)@\(hop.agent)", seconds: seconds, agent: hop.agent)
            }
        }
        guard first.inMicros >= latencyCountsFromMicros else {
            latencySamplesSkipped += 1
            return events
        }
        let transit = max(0, Double(last.outMicros - first.inMicros) / 1e6 - held)
        events += recordLatency(id: orderId, seconds: transit, agent: nil)
        return events
    }

    /// One latency sample in seconds: `agent` nil for the pipeline transit (system breaker),
    /// else that agent's processing. De-duplicated by `id` within the window.
    public mutating func recordLatency(id: String, seconds: Double, agent: String?) -> [BreakerEvent] {
        let now = self.now
        let t = configuration.thresholds
        if let agent {
            guard breakers[.agent(agent)] != nil else { return [] }
            guard agentLatency[agent, default: BreakerSampleWindow(windowSeconds: t.latencyWindowSeconds)]
                .add(seconds, at: now, id: id) else { return [] }
            return advanceTimer(.agent(agent), now: now) + observeLatency(agent: agent, now: now)
        }
        guard pipelineLatency.add(seconds, at: now, id: id) else { return [] }
        return advanceTimer(.system, now: now) + observeLatency(agent: nil, now: now)
    }

    /// The quantile of the window against the thresholds; fewer samples than the minimum read
    /// clear (no evidence).
    mutating func observeLatency(agent: String?, now: Int64) -> [BreakerEvent] {
        let t = configuration.thresholds
        let key = agent.map(BreakerKey.agent) ?? .system
        guard breakers[key] != nil else { return [] }
        let count: Int
        let value: Double?
        if let agent {
            guard agentLatency[agent] != nil else { return [] }
            agentLatency[agent]!.prune(now: now)
            count = agentLatency[agent]!.count
            value = agentLatency[agent]!.quantile(t.latencyQuantile)
        } else {
            pipelineLatency.prune(now: now)
            count = pipelineLatency.count
            value = pipelineLatency.quantile(t.latencyQuantile)
        }
        let warning = agent == nil ? t.pipelineLatencyWarningSeconds : t.agentLatencyWarningSeconds
        let trip = agent == nil ? t.pipelineLatencyTripSeconds : t.agentLatencyTripSeconds
        let q = "p\(BreakerFormat.plain(t.latencyQuantile * 100))"
        let what = agent.map { "\($0) processing \(q)" } ?? "pipeline latency \(q)"
        let window = BreakerFormat.seconds(t.latencyWindowSeconds)
        let level: BreakerLevel
        let detail: String
        if let value, count >= t.latencyMinimumSamples {
            let previous = breakers[key]?.conditions[.latency]?.level
            level = BreakerLevel.classify(value, warning: warning, trip: trip, clearBelow: t.clearBelow(warning), previous: previous)
            detail = "\(what) \(BreakerFormat.latency(value)) over \(count) orders in the last \(window)"
                + Self.comparison(level, value: value, warning: warning, trip: trip, clear: t.clearBelow(warning), format: BreakerFormat.latency)
        } else {
            level = .clear
            detail = "\(what): \(count) orders in the last \(window), fewer than \(t.latencyMinimumSamples) (no evidence)"
        }
        var figures = ["samples": "\(count)", "quantile": BreakerFormat.plain(t.latencyQuantile),
                       "warningSeconds": BreakerFormat.plain(warning), "limitSeconds": BreakerFormat.plain(trip)]
        if let value { figures["seconds"] = BreakerFormat.plain(value) }
        return observe(key, .latency, level, BreakerReason(cause: .latency, detail: detail, figures: figures), now: now)
    }

    // MARK: - Ticks (gaps and volatility)

    /// A `market.ticks` quote: the one-tick mid move against `priceGapPercent` (trip only) and
    /// the realised volatility √Σr² of the tick-to-tick returns (percent) inside the window of
    /// tick time against its warning/trip. Moves at or above the gap limit are left to the gap
    /// rule and kept out of the volatility sum, so one gap does not hold the volatility
    /// condition for a whole window. Ticks not newer than the last one (redelivery) are ignored;
    /// a non-positive mid is a breach (the feed cannot be trusted).
    ///
    /// The figures are computed in `Double`, and every comparison `Double` cannot decide for
    /// certain (a move or Σr² within its error bound of a limit) is made exactly in `Decimal`, so
    /// the verdicts are those of exact arithmetic: a move of exactly the gap limit trips. The exact
    /// Σr² costs O(returns in the window) `Decimal` work; the band that needs it is ~1e-9 wide
    /// around each squared limit (a window of 10,000 returns of 0.002 %), so a market has to sit
    /// on a limit to the ninth decimal for ticks to pay it.
    public mutating func apply(tick: Tick) -> [BreakerEvent] {
        let symbol = tick.instrument
        // Taken out of the dictionary while it changes, so that appending to its window does not
        // copy the whole window (a copy still shared with the dictionary would be copied on write).
        var watch = instruments.removeValue(forKey: symbol) ?? InstrumentWatch()
        var newQuote: (QuotePair, Double?)?
        defer {
            if let (quote, mid) = newQuote { (watch.lastQuote, watch.lastMid) = (quote, mid) }
            instruments[symbol] = watch
        }
        if let lastTime = watch.lastTime, tick.time <= lastTime { return [] }
        let now = self.now
        let key = BreakerKey.instrument(symbol)
        var events = advanceTimer(key, now: now)
        let t = configuration.thresholds
        let quote = QuotePair(bid: tick.bid, ask: tick.ask)
        let bid = BreakerFormat.double(tick.bid), ask = BreakerFormat.double(tick.ask)
        // A positive bid in Double is a positive bid; an ask above it by more than any conversion
        // error is above it. Anything closer (a zero spread), or a bid that is not positive, is
        // checked exactly.
        let valid = bid > 0 ? ask > bid * (1 + 1e-12) || tick.ask >= tick.bid : tick.mid > 0 && tick.ask >= tick.bid
        guard valid else {
            let reason = BreakerReason(cause: .priceGap, detail: "\(symbol) invalid quote bid \(tick.bid) ask \(tick.ask)",
                                       figures: ["bid": BreakerFormat.exact(tick.bid), "ask": BreakerFormat.exact(tick.ask)])
            return events + observe(key, .priceGap, .breach, reason, now: now)
        }
        // The Double mid is within its error bound of the exact one only when both sides are
        // positive (a non-positive bid with a positive mid cancels); otherwise this tick's move,
        // and the next one's, are computed exactly.
        let mid: Double? = bid > 0 ? (bid + ask) * 0.5 : nil
        watch.lastTime = tick.time
        newQuote = (quote, mid)

        guard let previousQuote = watch.lastQuote else {
            let exactMid = quote.mid
            let reason = BreakerReason(cause: .priceGap, detail: "first \(symbol) tick since start or restore, mid \(BreakerFormat.price(exactMid))",
                                       figures: ["mid": BreakerFormat.exact(exactMid)])
            watch.reasonWrittenAt[.priceGap] = now
            return events + observe(key, .priceGap, .clear, reason, now: now)
        }
        // `move` is within 1e-11 + 1e-13·|move| of the exact return (`InstrumentWatch.Return`);
        // closer than that to the limit, the exact return decides. Without trustworthy Double
        // mids the move is the exact one, converted.
        // The exact return, computed at most once and only when something needs it.
        var exactMove: Decimal?
        func exact() -> Decimal {
            if let exactMove { return exactMove }
            let m = quote.exactMove(from: previousQuote)
            exactMove = m
            return m
        }
        let limit = priceGapPercentDouble
        let fast = mid.flatMap { m in watch.lastMid.map { p in (m - p) * 100 / p } }
        let move: Double
        let gap: Bool
        if let fast, abs(abs(fast) - limit) > 1e-11 + 1e-13 * max(abs(fast), limit) {
            if abs(fast) < limit {
                move = fast
                gap = false
            } else {
                // A gap halts the instrument: confirmed exactly (gaps are rare, so this costs
                // nothing per tick). A disagreement would be a fault of the fast path; the exact
                // verdict stands and the disagreement is recorded for the operator.
                gap = abs(exact()) >= t.priceGapPercent
                if gap {
                    move = fast
                } else {
                    move = BreakerFormat.double(exact())
                    fastPathDisagreements.record("\(symbol) fast move \(fast) % from Double mid \(watch.lastMid.map { "\($0)" } ?? "nil") "
                        + "to \(mid.map { "\($0)" } ?? "nil"); exact \(BreakerFormat.exact(exact())) % from \(BreakerFormat.exact(previousQuote.mid)) "
                        + "to \(BreakerFormat.exact(quote.mid))")
                }
            }
        } else {
            move = fast ?? BreakerFormat.double(exact())
            gap = abs(exact()) >= t.priceGapPercent
        }
        // A clear reading that changes nothing skips building its reason (exact figures, two
        // formatted lines) unless the stored one is older than `quietReasonRefreshMicros`.
        func quiet(_ cause: BreakerCause, _ level: BreakerLevel) -> Bool {
            guard let written = watch.reasonWrittenAt[cause], now >= written else { return false }
            return now - written < Self.quietReasonRefreshMicros && isQuietClear(key, cause, level)
        }
        if !quiet(.priceGap, gap ? .breach : .clear) {
            let exactPrevious = previousQuote.mid, exactMid = quote.mid
            let gapDetail = "\(symbol) mid moved \(BreakerFormat.percent(abs(exact()))) in one tick (\(BreakerFormat.price(exactPrevious)) → "
                + "\(BreakerFormat.price(exactMid)))" + (gap ? " ≥ gap limit \(BreakerFormat.percent(t.priceGapPercent))"
                                                           : " below gap limit \(BreakerFormat.percent(t.priceGapPercent))")
            let gapReason = BreakerReason(cause: .priceGap, detail: gapDetail,
                                          figures: ["movePercent": BreakerFormat.exact(BreakerFormat.round(exact(), 6)),
                                                    "previousMid": BreakerFormat.exact(exactPrevious), "mid": BreakerFormat.exact(exactMid),
                                                    "limitPercent": BreakerFormat.exact(t.priceGapPercent)])
            events += observe(key, .priceGap, gap ? .breach : .clear, gapReason, now: now)
            watch.reasonWrittenAt[.priceGap] = now
        }

        if !gap { watch.add(.init(time: tick.time, move: move, from: previousQuote, to: quote)) }
        watch.prune(before: tick.time - BreakerTime.micros(seconds: t.volatilityWindowSeconds))
        let returns = watch.returnCount
        let level: BreakerLevel
        // Σr² exactly, when it was needed (a threshold within the Double sum's error bound).
        var exactSum: Decimal?
        if returns >= t.volatilityMinimumReturns {
            // Compared as squares: √ is monotonic. The squared thresholds are computed once
            // (`volatilitySquares`), not for every tick.
            let prior = breakers[key]?.conditions[.volatility]?.level
            let sum = watch.sumSquares, bound = watch.sumSquaresErrorBound
            let d = volatilitySquaresDouble
            if abs(sum - d.trip) > bound, abs(sum - d.warning) > bound, abs(sum - d.clear) > bound {
                level = BreakerLevel.classify(sum, warning: d.warning, trip: d.trip, clearBelow: d.clear, previous: prior)
            } else {
                let exact = watch.exactSumSquares
                exactSum = exact
                let squares = volatilitySquares
                level = BreakerLevel.classify(exact, warning: squares.warning, trip: squares.trip, clearBelow: squares.clear, previous: prior)
            }
        } else {
            level = .clear
        }
        if quiet(.volatility, level) { return events }
        let window = BreakerFormat.seconds(t.volatilityWindowSeconds)
        let volReason: BreakerReason
        if returns >= t.volatilityMinimumReturns {
            // The figures: exact when the verdict needed the exact sum; else the Double sum
            // (summed afresh if its running rounding could dominate) with as many significant
            // digits as its error bound vouches for, at most 12 — and 0 when it vouches for none
            // (a window of returns below what Double resolves, e.g. unchanged mids: the sum is
            // then within its bound, ~1e-20, of 0). Never negative.
            let sumFigure: String
            if let exactSum {
                sumFigure = BreakerFormat.exact(exactSum)
            } else {
                watch.refreshSum()
                let sum = max(0, watch.sumSquares), bound = watch.sumSquaresErrorBound
                sumFigure = sum > 10 * bound ? BreakerFormat.significant(sum, min(12, Int(log10(sum / bound)))) : "0"
            }
            let realised = max(0, exactSum.map(BreakerFormat.double) ?? watch.sumSquares).squareRoot()
            let w = t.volatilityWarningPercent, trip = t.volatilityTripPercent, clear = t.clearBelow(w)
            let cmp: String
            switch level {
            case .breach: cmp = " ≥ limit \(BreakerFormat.percent(trip))"
            case .warning: cmp = (exactSum.map { $0 >= volatilitySquares.warning } ?? (watch.sumSquares >= volatilitySquaresDouble.warning))
                ? " ≥ warning \(BreakerFormat.percent(w))"
                : " not yet below clear level \(BreakerFormat.percent(clear)) (warning held)"
            case .clear: cmp = " below warning \(BreakerFormat.percent(w))"
            }
            let detail = "\(symbol) realised volatility \(BreakerFormat.percent(realised)) over \(window) (\(returns) returns)\(cmp)"
            volReason = BreakerReason(cause: .volatility, detail: detail,
                                      figures: ["realisedPercent": BreakerFormat.plain(realised),
                                                "sumSquaredReturns": sumFigure, "returns": "\(returns)",
                                                "warningPercent": BreakerFormat.exact(w), "limitPercent": BreakerFormat.exact(trip)])
        } else {
            let detail = "\(symbol) realised volatility: \(returns) returns in the last \(window), "
                + "fewer than \(t.volatilityMinimumReturns) (no evidence)"
            volReason = BreakerReason(cause: .volatility, detail: detail,
                                      figures: ["returns": "\(returns)"])
        }
        events += observe(key, .volatility, level, volReason, now: now)
        watch.reasonWrittenAt[.volatility] = now
        return events
    }
}
