import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// The measures on their own: bucketing and rolling of the equity series, Pearson on
/// constructed return paths, the overlap requirement, exposure notional and cosine, the matrix.
final class AntiCorrelationStatisticsTests: XCTestCase {
    typealias F = AntiCorrelationFixture

    func testSeriesKeepsLastValuePerBucketForwardFillsAndDropsOldBuckets() {
        var s = RollingSeries(bucketMicros: 10 * F.second, capacity: 4)
        s.record(100, at: 1 * F.second)
        s.record(105, at: 5 * F.second)     // same bucket 0: close becomes 105
        s.record(110, at: 12 * F.second)    // bucket 1
        s.record(121, at: 31 * F.second)    // bucket 3; bucket 2 silent → carries 110
        XCTAssertEqual(s.closes, [105, 110, 110, 121])
        let r = s.returns(asOf: 31 * F.second)
        XCTAssertEqual(r.keys.sorted(), [1, 2, 3])
        XCTAssertEqual(r[1]!, 110.0 / 105.0 - 1, accuracy: 1e-12) // 0.047619…
        XCTAssertEqual(r[2]!, 0, accuracy: 1e-12)                 // no update = no move
        XCTAssertEqual(r[3]!, 0.1, accuracy: 1e-12)               // 121 / 110 − 1

        // A late sample is ignored, not written over an existing close.
        XCTAssertFalse(s.record(999, at: 20 * F.second))
        XCTAssertEqual(s.closes, [105, 110, 110, 121])

        // Capacity 4: bucket 4 pushes bucket 0 out, so its return disappears.
        s.record(d("133.1"), at: 45 * F.second)
        XCTAssertEqual(s.firstBucket, 1)
        XCTAssertEqual(s.returns(asOf: 45 * F.second).keys.sorted(), [2, 3, 4])

        // Seen from bucket 7 the window is buckets 5…7: all flat carries, old moves gone.
        let later = s.returns(asOf: 70 * F.second)
        XCTAssertEqual(later.keys.sorted(), [5, 6, 7])
        XCTAssertEqual(Set(later.values), [0])

        // A gap longer than the capacity leaves only carried closes and the new value.
        s.record(200, at: 500 * F.second)
        XCTAssertEqual(s.closes, [d("133.1"), d("133.1"), d("133.1"), 200])
        XCTAssertEqual(s.lastBucket, 50)
    }

    func testPearsonOfConstructedPathsIsOneMinusOneAndZero() {
        let engine = AntiCorrelationEngine(configuration: AntiCorrelationConfiguration(windows: [F.small]))
        var book = engine.makeBook()
        let up = F.alternating(8)                             // +1 −1 +1 −1 …
        F.feed(&book, "a", returns: up)
        F.feed(&book, "same", returns: up.map { $0 * 3 })       // same sign, 3× the size: ρ = 1
        F.feed(&book, "mirror", returns: F.alternating(8, startingUp: false)) // ρ = −1
        // +1 +1 −1 −1 …: against +1 −1 +1 −1 the products are +1 −1 −1 +1, summing to 0, both means 0.
        F.feed(&book, "other", returns: (0..<8).map { $0 % 4 < 2 ? d("0.01") : d("-0.01") })
        let now = 81 * F.second
        XCTAssertEqual(engine.returnCorrelation("a", "same", window: F.small, book: book, asOf: now).value, 1)
        XCTAssertEqual(engine.returnCorrelation("a", "mirror", window: F.small, book: book, asOf: now).value, -1)
        XCTAssertEqual(engine.returnCorrelation("a", "other", window: F.small, book: book, asOf: now).value, 0)
        XCTAssertEqual(engine.returnCorrelation("a", "same", window: F.small, book: book, asOf: now).overlap, 8)
    }

    func testTooFewCommonReturnsGiveNoCorrelationAndNoAction() {
        let engine = AntiCorrelationEngine() // default windows: 5m needs 20 common 10 s returns
        var book = engine.makeBook()
        F.feed(&book, "acct-a", returns: F.alternating(10))
        F.feed(&book, "acct-b", returns: F.alternating(10))   // perfectly correlated, but only 10 returns
        let now = 101 * F.second
        let r = engine.returnCorrelation("acct-a", "acct-b", window: .fiveMinutes, book: book, asOf: now)
        XCTAssertNil(r.value)
        XCTAssertEqual(r.overlap, 10)

        let outcome = engine.evaluate(F.order(), book: book, pricing: F.pricing, now: now)
        XCTAssertEqual(outcome.decision.verdict, .approved)
        XCTAssertEqual(outcome.action, .none)
        XCTAssertEqual(outcome.decision.figures["maxCorrelation"], "n/a")
        XCTAssertTrue(outcome.decision.checks.first { $0.rule == "correlation.5m" }!.detail.contains("insufficient data"))

        // With 30 buckets the minimum of 20 is reached and the same pattern counts: 1.0 blocks.
        var longer = engine.makeBook()
        F.feed(&longer, "acct-a", returns: F.alternating(30))
        F.feed(&longer, "acct-b", returns: F.alternating(30))
        let full = engine.evaluate(F.order(), book: longer, pricing: F.pricing, now: 301 * F.second)
        XCTAssertEqual(full.decision.verdict, .skipped)
        XCTAssertEqual(full.strongest?.window, "5m")
    }

    func testNotionalConvertsThroughTheQuoteCurrencyRate() {
        // 1 lot USD_JPY at 150 = 15,000,000 JPY × 0.0067 = 100,500 USD; short is negative.
        XCTAssertEqual(F.pricing.notional(of: "USD_JPY", lots: -1), -100_500)
        // 0.5 lot XAU_USD at 1,000 = 0.5 × 100 × 1,000 = 50,000 USD.
        XCTAssertEqual(F.pricing.notional(of: "XAU_USD", lots: F.d("0.5")), 50_000)
        XCTAssertNil(ExposurePricing(prices: ["USD_JPY": 150]).notional(of: "USD_JPY", lots: 1)) // no JPY rate
        XCTAssertNil(F.pricing.notional(of: "NOPE", lots: 1))
    }

    func testCosineOfExposureVectors() {
        let a = ExposureVector(["EUR_USD": 30_000, "GBP_USD": 40_000])
        // (30,000 × 40,000 + 40,000 × 30,000) / (50,000 × 50,000) = 2.4e9 / 2.5e9 = 0.96.
        XCTAssertEqual(a.cosineSimilarity(with: ExposureVector(["EUR_USD": 40_000, "GBP_USD": 30_000]))!, 0.96, accuracy: 1e-12)
        XCTAssertEqual(a.cosineSimilarity(with: ExposureVector(["EUR_USD": -3, "GBP_USD": -4]))!, -1, accuracy: 1e-12)
        XCTAssertNil(a.cosineSimilarity(with: ExposureVector()))
        XCTAssertTrue(ExposureVector(["EUR_USD": 0]).isEmpty)
    }

    func testMatrixIsSymmetricWithOnesOnTheDiagonal() throws {
        let engine = AntiCorrelationEngine(configuration: AntiCorrelationConfiguration(windows: [F.small]))
        var book = engine.makeBook()
        F.feed(&book, "a", returns: F.alternating(8))
        F.feed(&book, "b", returns: F.alternating(8))
        F.feed(&book, "c", returns: F.alternating(8, startingUp: false))
        book.register(accountId: "d") // no data at all
        let m = try XCTUnwrap(engine.correlationMatrix(window: "t", book: book, pricing: F.pricing, asOf: 81 * F.second))
        XCTAssertEqual(m.accounts, ["a", "b", "c", "d"])
        for i in m.accounts.indices {
            XCTAssertEqual(m.values[i][i], 1)
            for j in m.accounts.indices { XCTAssertEqual(m.values[i][j], m.values[j][i]) }
        }
        XCTAssertEqual(m.value("a", "b"), 1)
        XCTAssertEqual(m.value("a", "c"), -1)
        XCTAssertEqual(m.value("c", "b"), -1)
        XCTAssertNil(m.value("a", "d"))
        XCTAssertEqual(m.entries.map { "\($0.a)-\($0.b)=\($0.value)" }, ["a-b=1", "a-c=-1", "b-c=-1"])
        XCTAssertNil(engine.correlationMatrix(window: "1h", book: book, pricing: F.pricing, asOf: 0))
    }

    func testMatrixUsesExposureWhenReturnsAreShort() throws {
        let engine = AntiCorrelationEngine()
        var book = engine.makeBook()
        book.update(position: F.position("a", "EUR_USD", "0.3"))
        book.update(position: F.position("a", "GBP_USD", "0.4"))
        book.update(position: F.position("b", "EUR_USD", "0.4"))
        book.update(position: F.position("b", "GBP_USD", "0.3"))
        let m = try XCTUnwrap(engine.correlationMatrix(window: "1h", book: book, pricing: F.pricing, asOf: 0))
        XCTAssertEqual(m.value("a", "b"), F.d("0.96")) // see testCosineOfExposureVectors
    }

    func testConfigurationValidationNamesTheField() throws {
        XCTAssertNoThrow(try AntiCorrelationConfiguration().validate())
        func message(_ c: AntiCorrelationConfiguration) -> String {
            do { try c.validate(); return "" } catch { return error.message }
        }
        XCTAssertTrue(message(AntiCorrelationConfiguration(resizeLevel: F.d("0.4"))).contains("resizeLevel"))
        XCTAssertTrue(message(AntiCorrelationConfiguration(blockLevel: F.d("1.1"))).contains("blockLevel"))
        XCTAssertTrue(message(AntiCorrelationConfiguration(minimumStaggerSeconds: 10, maximumStaggerSeconds: 5)).contains("maximumStaggerSeconds"))
        XCTAssertTrue(message(AntiCorrelationConfiguration(maximumSizeReductionPercent: 4)).contains("maximumSizeReductionPercent"))
        XCTAssertTrue(message(AntiCorrelationConfiguration(windows: [.oneHour, .oneHour])).contains("windows[1h]"))
        let thin = CorrelationWindow(name: "x", bucketSeconds: 10, buckets: 5, minimumOverlap: 10)
        XCTAssertTrue(message(AntiCorrelationConfiguration(windows: [thin])).contains("windows[x].buckets"))
        let decoded = try JSONDecoder().decode(AntiCorrelationConfiguration.self, from: Data(#"{"seed": 7}"#.utf8))
        XCTAssertEqual(decoded.seed, 7)
        XCTAssertEqual(decoded.blockLevel, F.d("0.9"))
        XCTAssertEqual(decoded.windows.map(\.name), ["5m", "1h", "1d"])
        XCTAssertEqual(decoded.maximumStaggerSeconds, 45)
    }

    private func d(_ s: String) -> Decimal { F.d(s) }
}
