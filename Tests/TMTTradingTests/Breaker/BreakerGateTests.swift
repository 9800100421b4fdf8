import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// `evaluate(order:)`: ACTIVE / REDUCING / HALTED against risk-reducing and new orders, the
/// decision the order carries, fail-closed on anything unknown, and recovery of the gate.
final class BreakerGateTests: XCTestCase {
    typealias F = BreakerFixture

    func testActiveClearsEveryOrderWithAClearedDecision() {
        var (cb, _) = F.live()
        let e = cb.evaluate(order: F.order())
        XCTAssertEqual(e.verdict, .cleared)
        XCTAssertEqual(e.decision.agent, "circuit-breaker")
        XCTAssertEqual(e.decision.verdict, .cleared)
        XCTAssertEqual(e.decision.checks.map(\.rule), ["breaker-system", "breaker-agents", "breaker-account", "breaker-instrument"])
        XCTAssertTrue(e.decision.checks.allSatisfy(\.passed))
        XCTAssertEqual(e.decision.figures["tradingState"], "ACTIVE")
    }

    func testReducingLetsARiskReducingOrderThroughAndBlocksANewOne() throws {
        // 3,500 / 100,000 = 3.5 % ≥ 3.2 % warning → REDUCING.
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "96500"))
        XCTAssertTrue(cb.evaluate(order: F.order(riskReducing: true)).verdict.isCleared)

        let blocked = cb.evaluate(order: F.order())
        XCTAssertEqual(blocked.verdict.blockingBreaker, .account("acc-1"))
        XCTAssertEqual(blocked.verdict.reason,
                       "account acc-1 in warning: daily drawdown 3.50 % (loss 3,500.00 of start-of-day equity 100,000.00) ≥ warning 3.20 %; "
                       + "trading REDUCING: only risk-reducing orders pass")
        XCTAssertEqual(blocked.decision.verdict, .blocked)
        XCTAssertEqual(blocked.decision.figures["tradingState"], "REDUCING")
        XCTAssertEqual(blocked.decision.figures["accountState"], "warning")
        XCTAssertEqual(blocked.decision.figures["blockedBy"], "account acc-1")
        let accountCheck = try XCTUnwrap(blocked.decision.checks.first { $0.rule == "breaker-account" })
        XCTAssertFalse(accountCheck.passed)
        XCTAssertTrue(blocked.decision.checks.first { $0.rule == "breaker-system" }!.passed)
        // The other account is untouched.
        XCTAssertTrue(cb.evaluate(order: F.order("acc-2", id: "sig-1:acc-2")).verdict.isCleared)
    }

    func testHaltedBlocksEvenRiskReducingOrders() {
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95000"))     // 5 % → tripped
        let e = cb.evaluate(order: F.order(riskReducing: true))
        XCTAssertEqual(e.verdict.blockingBreaker, .account("acc-1"))
        XCTAssertTrue(e.verdict.reason!.hasPrefix("account acc-1 tripped: daily drawdown 5.00 %"))
        XCTAssertTrue(e.verdict.reason!.contains("(half-open in 300.0 s)"), e.verdict.reason!)
        XCTAssertTrue(e.verdict.reason!.hasSuffix("trading HALTED: no orders pass"))
    }

    func testHalfOpenIsReducingAndGoodOutcomesReopenTheAccount() {
        // 4,500 / 100,000 = 4.5 % trips the account; the system sees 4,500 / 200,000 = 2.25 % < 2.4 %.
        var (cb, clock) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95500"))
        F.elapse(&cb, clock, 299)
        XCTAssertFalse(cb.evaluate(order: F.order(riskReducing: true)).verdict.isCleared)
        F.elapse(&cb, clock, 1)                                        // 300 s: half-open
        let e = cb.evaluate(order: F.order(riskReducing: true))
        XCTAssertTrue(e.verdict.isCleared)
        XCTAssertEqual(e.events.map(\.to), [.halfOpen])
        XCTAssertEqual(e.assessment.state, .reducing)
        XCTAssertFalse(cb.evaluate(order: F.order()).verdict.isCleared)
        // The loss is still 4.5 % at the next update: a bad outcome, re-tripped for 300 × 2 = 600 s.
        let retrip = cb.apply(account: F.account("acc-1", equity: "95500"))
        XCTAssertEqual(retrip.first?.recoveryAt, F.micros(clock) + 600_000_000)
        F.elapse(&cb, clock, 600)
        _ = cb.advance()
        XCTAssertEqual(cb.state(.account("acc-1")), .halfOpen)
        // Positions recovered: equity back to 98,000 (2 %, below the 2.88 % clear level). An
        // update, a fill and an update 1 s apart are the 3 good outcomes that close it.
        _ = cb.apply(account: F.account("acc-1", equity: "98000"))
        F.elapse(&cb, clock, 1)
        _ = cb.apply(fill: Fill(id: "f1", orderId: "o1", accountId: "acc-1", instrument: "EUR_USD", side: .sell, quantity: 1,
                                price: 1, spread: 0, slippage: 0, commission: 0, time: 0))
        XCTAssertEqual(cb.state(.account("acc-1")), .halfOpen)
        F.elapse(&cb, clock, 1)
        let closed = cb.apply(account: F.account("acc-1", equity: "98000"))
        XCTAssertEqual(closed.map(\.to), [.normal])
        XCTAssertEqual(closed.first?.reason.cause, .goodOutcomes)
        XCTAssertTrue(cb.evaluate(order: F.order()).verdict.isCleared)
    }

    func testFreshBreakerIsHaltedUntilEveryRelevantBreakerHasData() {
        let clock = ManualClock()
        var cb = CircuitBreaker(configuration: F.configuration(), clock: clock)
        let first = cb.evaluate(order: F.order(riskReducing: true))
        XCTAssertEqual(first.verdict.blockingBreaker, .system)
        XCTAssertEqual(first.assessment.state, .halted)
        XCTAssertEqual(first.assessment.constraints.map(\.key),
                       [.system, .agent("aria-risk"), .agent("execution-engine"), .account("acc-1"), .instrument("EUR_USD")])
        XCTAssertTrue(first.assessment.constraints.allSatisfy { $0.breakerState == nil && $0.effect == .halted })

        for agent in F.critical.sorted() { _ = cb.apply(heartbeat: F.heartbeat(agent)) }
        _ = cb.apply(account: F.account("acc-1", equity: "100000"))
        let waiting = cb.evaluate(order: F.order())
        XCTAssertEqual(waiting.verdict.blockingBreaker, .system, "system drawdown waits for acc-2's figures")
        XCTAssertTrue(waiting.verdict.reason!.hasPrefix("system unknown: no fresh data since start or restore (fail closed)"))
        _ = cb.apply(account: F.account("acc-2", equity: "100000"))
        XCTAssertEqual(cb.evaluate(order: F.order()).verdict.blockingBreaker, .instrument("EUR_USD"), "no tick yet")
        _ = cb.apply(tick: F.tick("EUR_USD", "1.00000", at: 1))
        XCTAssertTrue(cb.evaluate(order: F.order()).verdict.isCleared)
    }

    func testOrderForAnAccountNeverSeenIsHalted() {
        var (cb, _) = F.live()
        let e = cb.evaluate(order: F.order("acc-9", riskReducing: true, id: "sig-1:acc-9"))
        XCTAssertEqual(e.verdict.blockingBreaker, .account("acc-9"))
        XCTAssertTrue(e.verdict.reason!.hasPrefix("account acc-9 unknown: no figures for this account yet (fail closed)"))
        XCTAssertEqual(e.decision.figures["accountState"], "unknown")
    }

    func testOrderInAnInstrumentNeverTickedIsHalted() {
        var (cb, _) = F.live()
        XCTAssertEqual(cb.evaluate(order: F.order("acc-1", "XAU_USD", riskReducing: true)).verdict.blockingBreaker,
                       .instrument("XAU_USD"))
    }

    func testCriticalAgentDownReducesAndNamesTheAgent() {
        var (cb, clock) = F.live()
        clock.advance(by: 14)
        _ = cb.apply(heartbeat: F.heartbeat("aria-risk"))
        clock.advance(by: 1)                                             // execution-engine 15 s silent
        let e = cb.evaluate(order: F.order())
        XCTAssertEqual(e.verdict.blockingBreaker, .agent("execution-engine"))
        XCTAssertEqual(e.decision.figures["criticalAgentsDown"], "1")
        XCTAssertTrue(e.verdict.reason!.contains("1 of 2 critical agents down (HALTED at 2)"), e.verdict.reason!)
        XCTAssertTrue(cb.evaluate(order: F.order(riskReducing: true)).verdict.isCleared)
    }

    func testNonCriticalAgentDoesNotRestrictTrading() {
        var (cb, clock) = F.live()
        _ = cb.apply(heartbeat: F.heartbeat("continuous-improvement"))
        clock.advance(by: 14)
        for agent in F.critical.sorted() { _ = cb.apply(heartbeat: F.heartbeat(agent)) }
        clock.advance(by: 1)
        _ = cb.advance()
        XCTAssertEqual(cb.state(.agent("continuous-improvement")), .tripped)
        XCTAssertTrue(cb.evaluate(order: F.order()).verdict.isCleared)
    }

    func testSystemTripBlocksEveryAccount() {
        var (cb, _) = F.live()
        for i in 0..<30 { _ = cb.recordError(id: "d\(i)", origin: nil) }
        for account in F.accounts {
            XCTAssertEqual(cb.evaluate(order: F.order(account, riskReducing: true, id: "x:\(account)")).verdict.blockingBreaker, .system)
        }
    }
}
