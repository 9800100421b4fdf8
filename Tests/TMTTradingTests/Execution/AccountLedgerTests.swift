import Foundation
import TMTBase
import TMTModels
import XCTest
@testable import TMTTrading

final class AccountLedgerTests: XCTestCase {
    private typealias F = ExecutionFixture

    /// Trades a seeded sequence of market orders (random instrument, side and size, some larger
    /// than the book so they fill over several ticks) through the engine and returns every booked
    /// fill and the final ledger. The random numbers are test inputs, not results.
    private func tradeSequence(accountCurrency: String, seed: UInt64) throws -> (fills: [BookedFill], ledger: AccountLedger) {
        let engine = F.engine(maxDepthLevels: 2)
        var rng = SeededRandom(seed: seed)
        var mids: [String: Decimal] = ["EUR_USD": F.d("1.08500"), "USD_JPY": F.d("149.500"), "XAU_USD": F.d("2350.00")]
        let spreads: [String: Decimal] = ["EUR_USD": F.d("0.00008"), "USD_JPY": F.d("0.009"), "XAU_USD": F.d("0.25")]
        let steps: [String: Decimal] = ["EUR_USD": F.d("0.00001"), "USD_JPY": F.d("0.001"), "XAU_USD": F.d("0.01")]
        var ledger = AccountLedger(accountId: "acct-1", currency: accountCurrency, initialBalance: 10_000_000)
        var rates = CurrencyRates()
        var fills: [BookedFill] = []
        var time = F.t0
        func quote(_ symbol: String) -> Tick {
            // A random walk of up to ±40 points per tick.
            let move = Decimal(Int(rng.next() % 81) - 40) * steps[symbol]!
            mids[symbol]! += move
            time += 150_000
            let half = spreads[symbol]! / 2
            return Tick(instrument: symbol, bid: mids[symbol]! - half, ask: mids[symbol]! + half, volume: 1, time: time)
        }
        // Every instrument quoted once, plus EUR_USD for conversions of a EUR account.
        for s in mids.keys.sorted() { rates.update(quote(s)) }
        for n in 0..<80 {
            let symbol = ["EUR_USD", "USD_JPY", "XAU_USD"][Int(rng.next() % 3)]
            let side: Side = rng.next() % 2 == 0 ? .buy : .sell
            let lots = Decimal(Int(rng.next() % 3_000) + 1) / 100 // 0.01 … 30.00
            var working = try engine.accept(F.order("seq-\(n)", side, "\(lots)", instrument: symbol), receivedAt: time)
            var attempts = 0
            while !working.isDone && attempts < 10 {
                var q = quote(symbol)
                if q.time < working.arrivalTime { q.time = working.arrivalTime; time = q.time }
                rates.update(q)
                let r = try engine.execute(working, quote: q, now: q.time, ledger: ledger, rates: rates)
                fills += r.fills
                working = r.order
                ledger = r.ledger
                attempts += 1
            }
            XCTAssertTrue(working.isDone, "order seq-\(n) should finish within 10 ticks")
        }
        return (fills, ledger)
    }

    private func assertExact(accountCurrency: String, seed: UInt64) throws {
        let (fills, ledger) = try tradeSequence(accountCurrency: accountCurrency, seed: seed)
        XCTAssertGreaterThan(fills.count, 80, "some orders must have filled over several levels or ticks")
        XCTAssertTrue(fills.contains { $0.realizedPnL != 0 }, "the sequence must close positions")

        // Each position equals the sum of its fills.
        for symbol in ["EUR_USD", "USD_JPY", "XAU_USD"] {
            let sum = fills.filter { $0.fill.instrument == symbol }.reduce(Decimal(0)) { $0 + $1.fill.side.sign * $1.fill.quantity }
            XCTAssertEqual(ledger.book.position(symbol).quantity, sum, symbol)
        }
        // The balance is the initial balance plus realised P&L minus commission, exactly.
        let realized = fills.reduce(Decimal(0)) { $0 + $1.realizedPnL }
        let commission = fills.reduce(Decimal(0)) { $0 + $1.fill.commission }
        XCTAssertEqual(ledger.balance, 10_000_000 + realized - commission)
        XCTAssertEqual(ledger.realizedPnL, realized)
        XCTAssertEqual(ledger.commission, commission)
        XCTAssertEqual(fills.last?.balanceAfter, ledger.balance)
        XCTAssertEqual(ledger.book.entries.values.reduce(Decimal(0)) { $0 + $1.position.realizedPnL }, realized)
        // Every booked amount has at most four decimals.
        for f in fills {
            XCTAssertEqual(ExecutionMath.round(f.realizedPnL, scale: 4), f.realizedPnL)
            XCTAssertEqual(ExecutionMath.round(f.fill.commission, scale: 4), f.fill.commission)
        }
        // Replaying the fills through a fresh book reproduces every position exactly.
        var replay = PositionBook(accountId: "acct-1")
        for f in fills {
            let contract = Instrument.catalog[f.fill.instrument]!.contractSize
            let change = replay.apply(f.fill, contractSize: contract, conversionRate: f.conversionRate, moneyScale: 4, averagePriceScale: 10)
            XCTAssertEqual(change.realizedPnL, f.realizedPnL)
        }
        for symbol in ["EUR_USD", "USD_JPY", "XAU_USD"] {
            XCTAssertEqual(replay.position(symbol), ledger.book.position(symbol), symbol)
        }
    }

    func testPositionsEqualTheirFillsAndTheBalanceIsExactForAUsdAccount() throws {
        try assertExact(accountCurrency: "USD", seed: 2026)
    }

    func testPositionsEqualTheirFillsAndTheBalanceIsExactForAEurAccount() throws {
        // Every P&L and commission is converted (USD → EUR, JPY → USD → EUR) and rounded.
        try assertExact(accountCurrency: "EUR", seed: 77)
    }

    func testCommissionOfARoundTripIsTwiceLotsTimesRate() throws {
        let engine = F.engine()
        let open = try F.fillAtArrival(engine, F.order("rt-open", .buy, "1.37"), bid: "1.08500", ask: "1.08508", ledger: F.ledger("100000"))
        let close = try F.fillAtArrival(engine, F.order("rt-close", .sell, "1.37"), bid: "1.08600", ask: "1.08608",
                                        ledger: open.ledger, receivedAt: F.t0 + 60_000_000)
        // 1.37 lots: 0.3 × √(1.37/20) = 0.0785 pip → 1 point each way: in at 1.08509, out at 1.08599.
        XCTAssertEqual(open.fills.map(\.fill.price), [F.d("1.08509")])
        XCTAssertEqual(close.fills.map(\.fill.price), [F.d("1.08599")])
        // 2 × 1.37 × 3.5 = 9.59 USD.
        XCTAssertEqual(close.ledger.commission, F.d("9.59"))
        // 1.37 × (1.08599 − 1.08509) × 100,000 = 123.3 USD realised.
        XCTAssertEqual(close.ledger.realizedPnL, F.d("123.3"))
        // 100,000 + 123.3 − 9.59.
        XCTAssertEqual(close.ledger.balance, F.d("100113.71"))
        XCTAssertEqual(close.accountDelta, .init(realizedPnL: F.d("123.3"), commission: F.d("4.795"),
                                                 balanceBefore: F.d("99995.205"), balanceAfter: F.d("100113.71")))
    }

    func testValuationMarksLongsAtTheBidAndShortsAtTheAsk() throws {
        let engine = F.engine()
        let long = try F.fillAtArrival(engine, F.order("v-long", .buy, "2"), bid: "1.08500", ask: "1.08508", ledger: F.ledger("100000"))
        XCTAssertEqual(long.position.averagePrice, F.d("1.08509"))
        let rates = CurrencyRates(ticks: [F.tick(bid: "1.08609", ask: "1.08617", at: F.t0 + 1_000_000)])
        let v = try engine.valuation(of: long.ledger, rates: rates)
        // Balance 100,000 − 2 × 3.5 = 99,993; open P&L 2 × (1.08609 − 1.08509) × 100,000 = 200.
        XCTAssertEqual(v.balance, 99_993)
        XCTAssertEqual(v.openPnL, 200)
        XCTAssertEqual(v.equity, 100_193)
        // Used margin 2 × 100,000 × mid 1.08613 × 0.0333 = 7,233.6258; free 92,959.3742.
        XCTAssertEqual(v.usedMargin, F.d("7233.6258"))
        XCTAssertEqual(v.freeMargin, F.d("92959.3742"))
        XCTAssertEqual(ExecutionMath.double(v.marginLevelPercent ?? 0), 100_193 / 7_233.6258 * 100, accuracy: 0.01)
        // Daily P&L from the day-start balance (100,000): −7 commission + 200 open = 193.
        XCTAssertEqual(v.dailyPnL, 193)
        var nextDay = long.ledger
        nextDay.startNewDay()
        XCTAssertEqual(try engine.valuation(of: nextDay, rates: rates).dailyPnL, 200)

        var account = Account(id: "acct-1", firm: "ftmo-like", initialBalance: 100_000)
        v.apply(to: &account)
        XCTAssertEqual(account.equity, 100_193)
        XCTAssertEqual(account.highWaterMark, 100_193)
        XCTAssertEqual(account.dailyPnL, 193)

        let short = try F.fillAtArrival(engine, F.order("v-short", .sell, "1"), bid: "1.08500", ask: "1.08508", ledger: F.ledger())
        let sv = try engine.valuation(of: short.ledger, rates: CurrencyRates(ticks: [F.tick(bid: "1.08400", ask: "1.08408", at: F.t0)]))
        // Short from 1.08499 marked at the ask 1.08408: 1 × (1.08408 − 1.08499) × 100,000 × −1 = +91.
        XCTAssertEqual(sv.openPnL, 91)
        XCTAssertEqual(sv.positions.map(\.closingPrice), [F.d("1.08408")])

        XCTAssertThrowsError(try engine.valuation(of: long.ledger, rates: CurrencyRates())) {
            XCTAssertEqual(($0 as? ExecutionError)?.code, .missingQuote)
        }
    }

    func testRestoredLedgerDerivesItsBalanceFromItsParts() {
        let restored = AccountLedger(accountId: "acct-1", currency: "USD", initialBalance: 100_000, realizedPnL: F.d("123.3"),
                                     commission: F.d("9.59"), dayStartBalance: 100_000,
                                     positions: [BookedPosition(position: Position(accountId: "acct-1", instrument: "EUR_USD",
                                                                                   quantity: 2, averagePrice: F.d("1.085")))])
        XCTAssertEqual(restored.balance, F.d("100113.71"))
        XCTAssertEqual(restored.book.position("EUR_USD").quantity, 2)
    }
}
