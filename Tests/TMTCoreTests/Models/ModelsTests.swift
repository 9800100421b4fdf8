import XCTest
@testable import TMTModels

final class ModelsTests: XCTestCase {
    func testPipValuesPerLotInQuoteCurrency() {
        XCTAssertEqual(Instrument.eurUsd.pipValueInQuote, 10)       // 0.0001 × 100,000 USD
        XCTAssertEqual(Instrument.usdJpy.pipValueInQuote, 1000)     // 0.01 × 100,000 JPY
        XCTAssertEqual(Instrument.xauUsd.pipValueInQuote, 1)        // 0.01 × 100 oz USD
        XCTAssertEqual(Instrument.us30.pipValueInQuote, 1)
        XCTAssertEqual(Instrument.catalog.count, 6)
    }

    func testMoneySurvivesJSONExactly() throws {
        let fill = Fill(id: "f1", orderId: "o1", accountId: "a1", instrument: "EUR_USD", side: .buy,
                        quantity: Decimal(string: "1.37")!, price: Decimal(string: "1.084123456789012345")!,
                        spread: Decimal(string: "0.00012")!, slippage: Decimal(string: "0.00001")!,
                        commission: Decimal(string: "9.59")!, time: 1)
        let env = Envelope(id: "e1", type: "execution.fill", traceId: "t1", source: "execution-engine", payload: fill)
        let back = try EnvelopeCoding.decode(Fill.self, from: EnvelopeCoding.encode(env))
        XCTAssertEqual(back.payload, fill)
        XCTAssertEqual(back.payload.price.description, "1.084123456789012345")
        XCTAssertEqual(back.payload.commission + Decimal(string: "0.41")!, 10)
    }

    func testEnvelopeDecodeErrorsNameTheField() {
        let missing = Array(#"{"id":"x","type":"t","schemaVersion":1,"traceId":"tr","createdAt":1,"source":"s","hops":[],"payload":{"instrument":"EUR_USD","bid":1.1,"ask":1.2,"volume":1}}"#.utf8)
        XCTAssertThrowsError(try EnvelopeCoding.decode(Tick.self, from: missing)) { error in
            XCTAssertEqual("\(error)", "decoding: missing field 'payload.time'")
        }
        let wrongType = Array(#"{"id":"x","type":"t","schemaVersion":"one","traceId":"tr","createdAt":1,"source":"s","hops":[],"payload":{}}"#.utf8)
        XCTAssertThrowsError(try EnvelopeCoding.decode(Tick.self, from: wrongType)) { error in
            XCTAssertTrue("\(error)".contains("'schemaVersion'"), "\(error)")
        }
        XCTAssertThrowsError(try EnvelopeCoding.decode(Tick.self, from: Array("not json".utf8))) { error in
            XCTAssertEqual("\(error)", "decoding: not valid JSON")
        }
    }

    func testDerivedEnvelopeKeepsTraceAndAppendsHop() throws {
        let tick = Tick(instrument: "EUR_USD", bid: 1, ask: 2, volume: 1, time: 5)
        let first = Envelope(id: "tick-1", type: "market.tick", traceId: "trace-9", source: "data-generator", payload: tick)
        let received = HopClock.nowMicros()
        let second = first.derive(id: "sig-1", type: "signal", source: "wyckoff-analysis", receivedMicros: received, payload: tick)
        XCTAssertEqual(second.traceId, "trace-9")
        XCTAssertEqual(second.hops.count, 1)
        XCTAssertEqual(second.hops[0].agent, "wyckoff-analysis")
        XCTAssertGreaterThanOrEqual(second.hops[0].outMicros, second.hops[0].inMicros)
        XCTAssertEqual(second.hops[0].inMicros, received)
    }

    func testOrderLifecycleAllowsOnlyForwardMoves() throws {
        var order = Order(id: Order.id(signalId: "s1", accountId: "acc-1"), signalId: "s1", accountId: "acc-1",
                          instrument: "EUR_USD", side: .buy, type: .market, quantity: 1, stopLoss: 1, takeProfit: 2, createdAt: 0)
        XCTAssertEqual(order.id, "s1:acc-1")
        let d = Decision(agent: "compliance-engine", verdict: .approved, decidedAt: 0)
        try order.advance(to: .approved, decision: d)
        XCTAssertThrowsError(try order.advance(to: .filled, decision: d)) { error in
            XCTAssertEqual("\(error)", "order s1:acc-1: cannot move from approved to filled")
        }
        for next in [OrderStatus.decorrelated, .humanized, .cleared, .partiallyFilled, .filled] {
            try order.advance(to: next, decision: d)
        }
        XCTAssertTrue(order.status.isTerminal)
        XCTAssertEqual(order.decisions.count, 6)
        for s in OrderStatus.allCases where s.isTerminal { XCTAssertTrue(s.allowedNext.isEmpty) }
    }

    func testBarAlignmentAndFolding() {
        let t1 = Tick(instrument: "EUR_USD", bid: Decimal(string: "1.1000")!, ask: Decimal(string: "1.1002")!, volume: 5, time: 60_500_000)
        var bar = Bar(first: t1, timeframeSeconds: 60)
        XCTAssertEqual(bar.start, 60_000_000)
        let t2 = Tick(instrument: "EUR_USD", bid: Decimal(string: "1.1010")!, ask: Decimal(string: "1.1012")!, volume: 3, time: 119_999_999)
        XCTAssertTrue(bar.contains(t2))
        bar.apply(t2)
        XCTAssertEqual(bar.high, Decimal(string: "1.1011"))
        XCTAssertEqual(bar.open, Decimal(string: "1.1001"))
        XCTAssertEqual(bar.volume, 8)
        XCTAssertFalse(bar.contains(Tick(instrument: "EUR_USD", bid: 1, ask: 1, volume: 1, time: 120_000_000)))
    }

    func testAccountDrawdownFromHighWaterMark() {
        var a = Account(id: "a", firm: "ftmo", initialBalance: 100_000)
        a.highWaterMark = 110_000
        a.equity = 99_000
        XCTAssertEqual(a.drawdownPercent, 10)
    }

    /// `epoch` (restarts) round-trips, is 0 in JSON from before restarts existed, and may not be negative.
    func testAccountEpochDecoding() throws {
        var a = Account(id: "a", firm: "ftmo", initialBalance: 100_000)
        a.epoch = 2
        let data = try JSONEncoder().encode(a)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"epoch\":2"))
        XCTAssertEqual(try JSONDecoder().decode(Account.self, from: data), a)
        let old = #"{"id":"a","firm":"ftmo","currency":"USD","initialBalance":100000,"balance":99000,"equity":98000,"dailyPnL":-2000,"highWaterMark":100000}"#
        let decoded = try JSONDecoder().decode(Account.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.epoch, 0)
        XCTAssertEqual(decoded.equity, 98_000)
        let negative = old.replacingOccurrences(of: "}", with: #","epoch":-1}"#)
        XCTAssertThrowsError(try JSONDecoder().decode(Account.self, from: Data(negative.utf8))) {
            XCTAssertTrue("\($0)".contains("epoch"), "\($0)")
        }
    }

    /// A staging command's `epochs` (account restart targets) round-trip and default to empty.
    func testStagingCommandEpochs() throws {
        let c = StagingCommand(id: "c1", action: .accountRestart, accounts: ["a"], reason: "r", requestedBy: "ops", issuedAt: 5,
                               epochs: ["a": 3])
        let data = try JSONEncoder().encode(c)
        XCTAssertEqual(try JSONDecoder().decode(StagingCommand.self, from: data), c)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains(#""action":"account.restart""#))
        let old = #"{"id":"c0","action":"day.reset","accounts":[],"reason":"r","operator":"ops","issuedAt":1}"#
        let decoded = try JSONDecoder().decode(StagingCommand.self, from: Data(old.utf8))
        XCTAssertEqual(decoded.epochs, [:])
        XCTAssertEqual(decoded.requestedBy, "ops")
    }
}
