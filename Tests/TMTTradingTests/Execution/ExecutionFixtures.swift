import Foundation
import TMTBase
import TMTModels
@testable import TMTTrading

/// Quotes, orders, ledgers and a hand-checkable fill model for the execution tests. The model is
/// written out here (rather than taken from the staging defaults) so that tuning the defaults
/// does not silently change what these tests prove.
enum ExecutionFixture {
    /// Tuesday 2026-03-03 17:00:00 UTC, in µs: New York session, where `TradingSession.activity`
    /// is 1.0 for EUR_USD and USD_JPY, so session-scaled depth equals the configured depth.
    static let t0: Int64 = 1_772_557_200 * 1_000_000

    static func d(_ text: String) -> Decimal { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))! }

    /// EUR_USD: 20 lots per level, levels 2 points apart, typical spread 0.8 pip,
    /// k = 0.3 pip, cap 3 pips; USD_JPY: 15 lots, 2 points, 0.9 pip, k 0.3, cap 3; XAU_USD as staging.
    /// Slippage exponent 0.5. Latency median 40 ms, p99 150 ms.
    static func configuration(maxDepthLevels: Int = 5) -> FillModelConfiguration {
        var c = FillModelConfiguration.staging
        c.maxDepthLevels = maxDepthLevels
        c.slippageExponent = 0.5
        c.scalesDepthBySession = true
        c.latency = .init(medianMilliseconds: 40, p99Milliseconds: 150, maxMilliseconds: 1_000, seed: 7)
        c.liquidity["EUR_USD"] = InstrumentLiquidity(touchDepthLots: 20, levelStepPoints: 2, typicalSpreadPips: 0.8,
                                                     slippagePipsAtDepth: 0.3, maxSlippagePips: 3)
        c.liquidity["USD_JPY"] = InstrumentLiquidity(touchDepthLots: 15, levelStepPoints: 2, typicalSpreadPips: 0.9,
                                                     slippagePipsAtDepth: 0.3, maxSlippagePips: 3)
        c.commissions[.fx] = CommissionRate(perLotPerSide: d("3.5"), currency: "USD")
        c.quoteWaitMilliseconds = 500
        c.maxQuoteAgeSeconds = 60
        c.marketOrderTimeToLiveSeconds = 60
        c.pendingOrderTimeToLiveSeconds = 86_400
        c.moneyScale = 4
        c.averagePriceScale = 10
        return c
    }

    static func engine(maxDepthLevels: Int = 5) -> ExecutionEngine {
        try! ExecutionEngine(configuration: configuration(maxDepthLevels: maxDepthLevels))
    }

    static func tick(_ instrument: String = "EUR_USD", bid: String, ask: String, at time: Int64) -> Tick {
        Tick(instrument: instrument, bid: d(bid), ask: d(ask), volume: 1_000, time: time)
    }

    static func order(_ id: String, _ side: Side, _ lots: String, instrument: String = "EUR_USD", type: OrderType = .market,
                      price: String? = nil, stopLoss: String? = nil, takeProfit: String? = nil, account: String = "acct-1") -> Order {
        Order(id: id, signalId: "sig-\(id)", accountId: account, instrument: instrument, side: side, type: type, quantity: d(lots),
              price: price.map(d), stopLoss: stopLoss.map(d), takeProfit: takeProfit.map(d), status: .cleared, createdAt: t0)
    }

    /// A USD account; 1,000,000 by default so margin never interferes unless a test wants it to.
    static func ledger(_ balance: String = "1000000", account: String = "acct-1") -> AccountLedger {
        AccountLedger(accountId: account, currency: "USD", initialBalance: d(balance))
    }

    /// Accepts `order` at `receivedAt` and executes it against a quote stamped exactly at its
    /// arrival time (so latency never matters to the caller).
    static func fillAtArrival(_ engine: ExecutionEngine, _ order: Order, bid: String, ask: String, ledger: AccountLedger,
                              receivedAt: Int64 = t0, rates: CurrencyRates = CurrencyRates(),
                              timeInForce: TimeInForce? = nil) throws -> ExecutionResult {
        let working = try engine.accept(order, receivedAt: receivedAt, timeInForce: timeInForce)
        let quote = tick(order.instrument, bid: bid, ask: ask, at: working.arrivalTime)
        return try engine.execute(working, quote: quote, now: quote.time, ledger: ledger, rates: rates)
    }
}
