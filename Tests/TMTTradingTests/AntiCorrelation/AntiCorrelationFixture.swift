import Foundation
import TMTModels
@testable import TMTTrading

/// Accounts, prices and equity paths for the anti-correlation tests. Prices are chosen so one
/// lot is a round notional: EUR_USD, GBP_USD and AUD_USD at 1 (1 lot = 100,000 USD), XAU_USD at
/// 1,000 (1 lot = 100 oz × 1,000 = 100,000 USD).
enum AntiCorrelationFixture {
    static func d(_ text: String) -> Decimal { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))! }

    static let pricing = ExposurePricing(prices: ["EUR_USD": 1, "GBP_USD": 1, "AUD_USD": 1, "XAU_USD": 1000,
                                                  "USD_JPY": 150, "US30": 40000],
                                         rates: ["JPY": d("0.0067")])

    /// A second, µs.
    static let second: Int64 = 1_000_000

    /// A window small enough to check by hand: 10 s buckets, 8 returns, at least 5 common.
    static let small = CorrelationWindow(name: "t", bucketSeconds: 10, buckets: 8, minimumOverlap: 5)

    /// Records an equity path starting at 10,000 whose bucket returns are `returns` (one sample
    /// 1 s into each 10 s bucket, so bucket k holds the k-th value).
    static func feed(_ book: inout AntiCorrelationBook, _ account: String, returns: [Decimal], bucketSeconds: Int64 = 10) {
        var equity: Decimal = 10_000
        book.record(equity: equity, accountId: account, at: second)
        for (k, r) in returns.enumerated() {
            equity *= 1 + r
            book.record(equity: equity, accountId: account, at: (Int64(k + 1) * bucketSeconds + 1) * second)
        }
    }

    /// `count` returns alternating +1 %, −1 %.
    static func alternating(_ count: Int, startingUp: Bool = true) -> [Decimal] {
        (0..<count).map { ($0 % 2 == 0) == startingUp ? d("0.01") : d("-0.01") }
    }

    static func position(_ account: String, _ instrument: String, _ lots: String) -> Position {
        Position(accountId: account, instrument: instrument, quantity: d(lots), averagePrice: 1)
    }

    static func order(_ id: String = "sig-1:acct-a", account: String = "acct-a", instrument: String = "EUR_USD",
                      side: Side = .buy, lots: String = "1.00", riskReducing: Bool = false) -> Order {
        Order(id: id, signalId: "sig-1", accountId: account, instrument: instrument, side: side, type: .market,
              quantity: d(lots), stopLoss: nil, takeProfit: nil, riskReducing: riskReducing, status: .approved, createdAt: 0)
    }
}
