import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class MarketOrderExecutionTests: XCTestCase {
    private typealias F = ExecutionFixture

    func testMarketBuyFillsAtTheAskPlusSlippage() throws {
        let engine = F.engine()
        let r = try F.fillAtArrival(engine, F.order("o-buy", .buy, "9"), bid: "1.08500", ask: "1.08508", ledger: F.ledger("100000"))
        // 9 lots: 0.3 × √(9/20) = 0.201 pip → 2 points; 1.08508 + 0.00002 = 1.08510.
        XCTAssertEqual(r.outcome, .filled)
        XCTAssertEqual(r.transitions, [.init(from: .cleared, to: .filled)])
        XCTAssertEqual(r.order.order.status, .filled)
        let fill = try XCTUnwrap(r.fills.first?.fill)
        XCTAssertEqual(r.fills.count, 1)
        XCTAssertEqual(fill.id, "o-buy#1")
        XCTAssertEqual(fill.price, F.d("1.08510"))
        XCTAssertEqual(fill.slippage, F.d("0.00002"))
        XCTAssertEqual(fill.spread, F.d("0.00008"))
        XCTAssertEqual(fill.quantity, 9)
        // 9 × 3.5 = 31.5 USD.
        XCTAssertEqual(fill.commission, F.d("31.5"))
        XCTAssertEqual(r.position.quantity, 9)
        XCTAssertEqual(r.position.averagePrice, F.d("1.08510"))
        XCTAssertEqual(r.ledger.balance, F.d("99968.5"))
        XCTAssertEqual(r.accountDelta, .init(realizedPnL: 0, commission: F.d("31.5"), balanceBefore: 100_000,
                                             balanceAfter: F.d("99968.5")))
        let decision = try XCTUnwrap(r.decision)
        XCTAssertEqual(decision.agent, "execution-engine")
        XCTAssertEqual(decision.verdict, .approved)
        XCTAssertEqual(decision.figures["outcome"], "filled")
        XCTAssertEqual(decision.figures["quoteAsk"], "1.08508")
        XCTAssertEqual(decision.figures["slippagePoints"], "2")
        XCTAssertEqual(r.order.order.decisions.last, decision)
        XCTAssertNil(r.nextCheckAt)
    }

    func testMarketSellFillsAtTheBidMinusSlippage() throws {
        let engine = F.engine()
        let r = try F.fillAtArrival(engine, F.order("o-sell", .sell, "4"), bid: "1.08500", ask: "1.08508", ledger: F.ledger("100000"))
        // 4 lots: 0.3 × √0.2 = 0.134 pip → 1 point; 1.08500 − 0.00001 = 1.08499.
        XCTAssertEqual(r.fills.map(\.fill.price), [F.d("1.08499")])
        XCTAssertEqual(r.fills.map(\.fill.slippage), [F.d("0.00001")])
        XCTAssertEqual(r.position.quantity, -4)
        XCTAssertEqual(r.ledger.balance, 100_000 - 14) // 4 × 3.5
    }

    func testLargeOrderFillsAcrossLevelsAndCompletesOnTheNextTick() throws {
        let engine = F.engine(maxDepthLevels: 3)
        let working = try engine.accept(F.order("o-big", .buy, "70"), receivedAt: F.t0)
        let first = F.tick(bid: "1.08500", ask: "1.08508", at: working.arrivalTime)
        let r1 = try engine.execute(working, quote: first, now: first.time, ledger: F.ledger(), rates: CurrencyRates())
        // Pass 1: 3 levels × 20 lots; 60-lot slippage 0.3 × √3 = 0.52 pip → 5 points.
        XCTAssertEqual(r1.outcome, .partiallyFilled)
        XCTAssertEqual(r1.transitions, [.init(from: .cleared, to: .partiallyFilled)])
        XCTAssertEqual(r1.fills.map(\.fill.price), [F.d("1.08513"), F.d("1.08515"), F.d("1.08517")])
        XCTAssertEqual(r1.fills.map(\.level), [0, 1, 2])
        XCTAssertEqual(r1.fills.map(\.fill.id), ["o-big#1", "o-big#2", "o-big#3"])
        XCTAssertEqual(r1.order.remainingQuantity, 10)
        XCTAssertEqual(r1.position.quantity, 60)
        XCTAssertEqual(r1.nextCheckAt, working.expiresAt)

        let second = F.tick(bid: "1.08502", ask: "1.08510", at: first.time + 250_000)
        let r2 = try engine.execute(r1.order, quote: second, now: second.time, ledger: r1.ledger, rates: CurrencyRates())
        // Pass 2: the 10 remaining lots: 0.3 × √0.5 = 0.212 pip → 2 points; 1.08510 + 0.00002.
        XCTAssertEqual(r2.outcome, .filled)
        XCTAssertEqual(r2.transitions, [.init(from: .partiallyFilled, to: .filled)])
        XCTAssertEqual(r2.fills.map(\.fill.price), [F.d("1.08512")])
        XCTAssertEqual(r2.fills.map(\.fill.id), ["o-big#4"])
        XCTAssertEqual(r2.position.quantity, 70)
        // (20 × 1.08513 + 20 × 1.08515 + 20 × 1.08517 + 10 × 1.08512) / 70 = 75.9602 / 70
        // = 1.08514571428571…, kept to 10 places: 1.0851457143.
        XCTAssertEqual(r2.position.averagePrice, F.d("1.0851457143"))
        // 70 lots × 3.5 = 245 USD in four fills.
        XCTAssertEqual(r2.ledger.commission, 245)
        XCTAssertEqual(r2.order.averageFillPrice, F.d("75.9602") / 70)
    }

    func testImmediateOrCancelCancelsWhatTheFirstPassCannotFill() throws {
        let engine = F.engine(maxDepthLevels: 3)
        let r = try F.fillAtArrival(engine, F.order("o-ioc", .buy, "70"), bid: "1.08500", ask: "1.08508", ledger: F.ledger(),
                                    timeInForce: .immediateOrCancel)
        XCTAssertEqual(r.outcome, .cancelled)
        XCTAssertEqual(r.transitions, [.init(from: .cleared, to: .partiallyFilled), .init(from: .partiallyFilled, to: .cancelled)])
        XCTAssertEqual(r.order.filledQuantity, 60)
        XCTAssertEqual(r.position.quantity, 60)
        XCTAssertEqual(r.order.closeReason, "immediate-or-cancel: 10 lots unfilled, cancelled")
    }

    func testUnfilledRestOfAMarketOrderIsCancelledAtItsExpiry() throws {
        let engine = F.engine(maxDepthLevels: 3)
        let working = try engine.accept(F.order("o-ttl", .buy, "70"), receivedAt: F.t0)
        // Default market time in force: 60 s after arrival.
        XCTAssertEqual(working.expiresAt, working.arrivalTime + 60_000_000)
        let first = F.tick(bid: "1.08500", ask: "1.08508", at: working.arrivalTime)
        let r1 = try engine.execute(working, quote: first, now: first.time, ledger: F.ledger(), rates: CurrencyRates())
        let late = F.tick(bid: "1.08500", ask: "1.08508", at: working.arrivalTime + 60_000_000)
        let r2 = try engine.execute(r1.order, quote: late, now: late.time, ledger: r1.ledger, rates: CurrencyRates())
        XCTAssertEqual(r2.outcome, .expired)
        XCTAssertEqual(r2.transitions, [.init(from: .partiallyFilled, to: .cancelled)])
        XCTAssertTrue(r2.fills.isEmpty)
        XCTAssertEqual(r2.position.quantity, 60)
        XCTAssertEqual(r2.decision?.checks.last?.rule, "timeInForce")
    }

    func testFillUsesTheFirstQuoteAtOrAfterArrival() throws {
        let engine = F.engine()
        let working = try engine.accept(F.order("o-lat", .buy, "1"), receivedAt: F.t0)
        XCTAssertEqual(working.latencyMicros, engine.model.latencyMicros(orderId: "o-lat"))
        XCTAssertGreaterThan(working.latencyMicros, 0)
        let arrival = working.arrivalTime

        // A tick 1 µs before arrival: the order is still on its way.
        let early = F.tick(bid: "1.08500", ask: "1.08508", at: arrival - 1)
        let waiting = try engine.execute(working, quote: early, now: early.time, ledger: F.ledger(), rates: CurrencyRates())
        XCTAssertEqual(waiting.outcome, .awaitingQuote)
        XCTAssertFalse(waiting.changed)
        XCTAssertTrue(waiting.fills.isEmpty)
        XCTAssertEqual(waiting.nextCheckAt, arrival + 500_000)

        // The next tick at arrival + 3 ms decides the price: its ask 1.08530 + 1 point.
        let next = F.tick(bid: "1.08522", ask: "1.08530", at: arrival + 3_000)
        let filled = try engine.execute(waiting.order, quote: next, now: next.time, ledger: F.ledger(), rates: CurrencyRates())
        XCTAssertEqual(filled.fills.map(\.fill.price), [F.d("1.08531")])
        XCTAssertEqual(filled.fills.map(\.fill.time), [next.time])
    }

    func testWithoutANewerTickTheLatestQuoteFillsOnceTheWaitBoundPasses() throws {
        let engine = F.engine()
        let working = try engine.accept(F.order("o-quiet", .buy, "1"), receivedAt: F.t0)
        let arrival = working.arrivalTime
        let latest = F.tick(bid: "1.08500", ask: "1.08508", at: F.t0 - 2_000_000) // 2 s before receipt
        let before = try engine.execute(working, quote: latest, now: arrival + 499_999, ledger: F.ledger(), rates: CurrencyRates())
        XCTAssertEqual(before.outcome, .awaitingQuote)
        let after = try engine.execute(working, quote: latest, now: arrival + 500_000, ledger: F.ledger(), rates: CurrencyRates())
        XCTAssertEqual(after.outcome, .filled)
        XCTAssertEqual(after.fills.map(\.fill.price), [F.d("1.08509")])
        XCTAssertEqual(after.fills.map(\.fill.time), [arrival], "filled at arrival, against the quote in force then")
    }

    func testAStaleQuoteIsNotUsedAndTheOrderFillsAtTheNextFreshTick() throws {
        let engine = F.engine()
        let working = try engine.accept(F.order("o-stale", .buy, "1"), receivedAt: F.t0)
        let arrival = working.arrivalTime
        // Last quote 61 s before arrival: older than the 60 s limit, so it is not the market.
        let stale = F.tick(bid: "1.08500", ask: "1.08508", at: arrival - 61_000_000)
        let waiting = try engine.execute(working, quote: stale, now: arrival + 10_000_000, ledger: F.ledger(), rates: CurrencyRates())
        XCTAssertEqual(waiting.outcome, .awaitingQuote)
        XCTAssertEqual(waiting.nextCheckAt, working.expiresAt)
        let fresh = F.tick(bid: "1.08100", ask: "1.08108", at: arrival + 20_000_000)
        let filled = try engine.execute(waiting.order, quote: fresh, now: fresh.time, ledger: F.ledger(), rates: CurrencyRates())
        XCTAssertEqual(filled.fills.map(\.fill.price), [F.d("1.08109")])
    }

    func testSameOrderIdAndQuotesGiveIdenticalFills() throws {
        func run(_ id: String) throws -> [ExecutionResult] {
            let engine = F.engine(maxDepthLevels: 2)
            let working = try engine.accept(F.order(id, .sell, "55"), receivedAt: F.t0)
            var results: [ExecutionResult] = []
            var order = working
            var ledger = F.ledger()
            for (i, bid) in ["1.08500", "1.08490", "1.08470"].enumerated() {
                let ask = "\(F.d(bid) + F.d("0.00009"))"
                let t = F.tick(bid: bid, ask: ask, at: working.arrivalTime + Int64(i) * 100_000)
                let r = try engine.execute(order, quote: t, now: t.time, ledger: ledger, rates: CurrencyRates())
                results.append(r)
                order = r.order
                ledger = r.ledger
            }
            return results
        }
        let a = try run("sig-42:acct-1")
        let b = try run("sig-42:acct-1")
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.flatMap(\.fills).count, 3, "55 lots over 2 levels of 20: 40, then 15")
        XCTAssertEqual(a.last?.outcome, .filled)
        let engine = F.engine()
        let latencies = Set(["sig-42:acct-1", "sig-42:acct-2", "sig-43:acct-1"].map { engine.model.latencyMicros(orderId: $0) })
        XCTAssertEqual(latencies.count, 3, "a different order id draws a different latency")
    }

    func testWorkingOrderAndLedgerSurviveAJSONRoundTripExactly() throws {
        // The agent stores both between ticks and restores them after a restart.
        let engine = F.engine(maxDepthLevels: 3)
        let working = try engine.accept(F.order("o-json", .buy, "70", stopLoss: "1.08000", takeProfit: "1.09000"), receivedAt: F.t0)
        let t = F.tick(bid: "1.08500", ask: "1.08508", at: working.arrivalTime)
        let r1 = try engine.execute(working, quote: t, now: t.time, ledger: F.ledger(), rates: CurrencyRates())
        let t2 = F.tick(bid: "1.08502", ask: "1.08510", at: t.time + 1_000)
        let r2 = try engine.execute(r1.order, quote: t2, now: t2.time, ledger: r1.ledger, rates: CurrencyRates())
        XCTAssertEqual(r2.position.averagePrice, F.d("1.0851457143"))
        let order = try JSONDecoder().decode(WorkingOrder.self, from: JSONEncoder().encode(r1.order))
        XCTAssertEqual(order, r1.order)
        let ledger = try JSONDecoder().decode(AccountLedger.self, from: JSONEncoder().encode(r2.ledger))
        XCTAssertEqual(ledger, r2.ledger)
        XCTAssertEqual(ledger.book.entry("EUR_USD").stopLoss, F.d("1.08000"))
    }

    func testInvalidOrdersEndCancelledWithTheReason() throws {
        let engine = F.engine()
        let noPrice = try F.fillAtArrival(engine, F.order("o-np", .buy, "1", type: .limit), bid: "1.08500", ask: "1.08508",
                                          ledger: F.ledger())
        XCTAssertEqual(noPrice.outcome, .cancelled)
        XCTAssertEqual(noPrice.order.order.status, .cancelled)
        XCTAssertEqual(noPrice.decision?.checks.first?.rule, "price")
        let unknown = try F.fillAtArrival(engine, F.order("o-unk", .buy, "1", instrument: "NZD_CAD"), bid: "0.8", ask: "0.8001",
                                          ledger: F.ledger())
        XCTAssertEqual(unknown.outcome, .cancelled)
        XCTAssertTrue(unknown.order.closeReason?.contains("unknown instrument NZD_CAD") ?? false)
        XCTAssertThrowsError(try engine.accept(F.order("o-x", .buy, "1").with(status: .humanized), receivedAt: F.t0))
    }

    func testMismatchedQuoteAndMissingRateThrowWithoutChangingAnything() throws {
        let engine = F.engine()
        let working = try engine.accept(F.order("o-jpy", .buy, "1", instrument: "USD_JPY"), receivedAt: F.t0)
        let eur = F.tick(bid: "1.08500", ask: "1.08508", at: working.arrivalTime)
        XCTAssertThrowsError(try engine.execute(working, quote: eur, now: eur.time, ledger: F.ledger(), rates: CurrencyRates())) {
            XCTAssertEqual(($0 as? ExecutionError)?.code, .mismatch)
        }
        // A EUR account trading USD_JPY needs JPY→EUR; with only the USD_JPY quote there is none.
        let eurLedger = AccountLedger(accountId: "acct-1", currency: "EUR", initialBalance: 100_000)
        let jpy = F.tick("USD_JPY", bid: "149.500", ask: "149.509", at: working.arrivalTime)
        XCTAssertThrowsError(try engine.execute(working, quote: jpy, now: jpy.time, ledger: eurLedger, rates: CurrencyRates())) {
            XCTAssertEqual(($0 as? ExecutionError)?.code, .missingConversionRate)
        }
        // With EUR_USD quoted too, JPY → USD → EUR crosses.
        let rates = CurrencyRates(ticks: [F.tick(bid: "1.25000", ask: "1.25000", at: F.t0)])
        let r = try engine.execute(working, quote: jpy, now: jpy.time, ledger: eurLedger, rates: rates)
        XCTAssertEqual(r.outcome, .filled)
    }
}

fileprivate extension Order {
    func with(status: OrderStatus) -> Order {
        var o = self
        o.status = status
        return o
    }
}
