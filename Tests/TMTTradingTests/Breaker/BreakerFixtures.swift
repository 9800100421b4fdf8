import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// Accounts, heartbeats, ticks, orders and a fully-live breaker for the circuit-breaker tests.
///
/// The live breaker watches two accounts of 100,000.00 each (so the system start-of-day equity
/// is 200,000.00), two critical agents (`aria-risk`, `execution-engine`; HALTED at 2 down under
/// the standard thresholds) and two instruments (EUR_USD, GBP_USD at mid 1.00000).
enum BreakerFixture {
    static let accounts = ["acc-1", "acc-2"]
    static let critical: Set<String> = ["aria-risk", "execution-engine"]

    static func configuration(_ thresholds: BreakerThresholds = .standard, accounts: [String] = accounts,
                              instruments: [String] = ["EUR_USD", "GBP_USD"]) -> BreakerConfiguration {
        BreakerConfiguration(thresholds: thresholds, criticalAgents: critical, monitoredAgents: [], accounts: accounts,
                             instruments: instruments)
    }

    static func d(_ s: String) -> Decimal { Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))! }

    /// An account that started the day at `start` and now has `equity` (daily P&L = equity − start).
    static func account(_ id: String, start: String = "100000", equity: String) -> Account {
        var a = Account(id: id, firm: "ftmo-like", initialBalance: d(start))
        a.equity = d(equity)
        a.balance = d(start)
        a.dailyPnL = d(equity) - d(start)
        return a
    }

    static func heartbeat(_ service: String, status: String = "healthy", failing: [String] = [], instance: String = "host-1") -> AgentHeartbeat {
        AgentHeartbeat(service: service, instanceId: instance, version: "test", status: status, startedAt: 0, uptimeSeconds: 1,
                       failingChecks: failing, sentAt: 0)
    }

    /// A zero-spread tick, so mid = the given price exactly.
    static func tick(_ instrument: String, _ mid: String, at seconds: Double) -> Tick {
        Tick(instrument: instrument, bid: d(mid), ask: d(mid), volume: 1000, time: Int64(seconds * 1_000_000))
    }

    static func order(_ account: String = "acc-1", _ instrument: String = "EUR_USD", riskReducing: Bool = false,
                      id: String = "sig-1:acc-1") -> Order {
        Order(id: id, signalId: "sig-1", accountId: account, instrument: instrument, side: .buy, type: .market, quantity: 1,
              stopLoss: d("0.99500"), takeProfit: d("1.01000"), riskReducing: riskReducing, status: .humanized, createdAt: 0)
    }

    static func command(_ id: String, _ action: BreakerCommand.Action, _ tier: BreakerTier, _ target: String? = nil,
                        reason: String = "drill", by: String = "ops-alice") -> BreakerCommand {
        BreakerCommand(id: id, action: action, tier: tier, target: target, reason: reason, requestedBy: by, issuedAt: 0)
    }

    /// Feeds everything a fresh breaker needs to know every breaker: a heartbeat of each
    /// critical agent, a flat update of each account, a tick of each instrument.
    static func confirmAll(_ breaker: inout CircuitBreaker, instruments: [String] = ["EUR_USD", "GBP_USD"]) {
        for agent in critical.sorted() { _ = breaker.apply(heartbeat: heartbeat(agent)) }
        for id in accounts { _ = breaker.apply(account: account(id, equity: "100000")) }
        for (i, symbol) in instruments.enumerated() { _ = breaker.apply(tick: tick(symbol, "1.00000", at: Double(i))) }
    }

    /// A breaker with every breaker known and normal, and its clock.
    static func live(_ thresholds: BreakerThresholds = .standard) -> (CircuitBreaker, ManualClock) {
        let clock = ManualClock()
        var breaker = CircuitBreaker(configuration: configuration(thresholds), clock: clock)
        confirmAll(&breaker)
        return (breaker, clock)
    }

    /// Moves the clock by `seconds` in steps of at most 5 s with a heartbeat of every critical
    /// agent after each step, so a long wait in a test does not also trip the agents.
    static func elapse(_ breaker: inout CircuitBreaker, _ clock: ManualClock, _ seconds: Double) {
        var remaining = seconds
        while remaining > 0 {
            let step = min(5, remaining)
            clock.advance(by: step)
            remaining -= step
            for agent in critical.sorted() { _ = breaker.apply(heartbeat: heartbeat(agent)) }
        }
    }

    /// Seconds since the epoch as µs on `clock`.
    static func micros(_ clock: ManualClock) -> Int64 { Int64((clock.now().timeIntervalSince1970 * 1e6).rounded()) }
}

extension CircuitBreaker {
    /// The state of `key`, nil when unknown, for assertions.
    func state(_ key: BreakerKey) -> BreakerState? {
        guard let b = breaker(key), b.isKnown else { return nil }
        return b.state
    }
}
