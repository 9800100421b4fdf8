import Foundation
import TMTBase
import TMTModels
@testable import TMTTrading

/// Accounts, quotes, bars and signals for the ARIA sizing tests. Every price is written out so
/// the hand-checked arithmetic in the tests can be followed without running anything.
enum RiskFixture {
    static let clockStart = Date(timeIntervalSince1970: 1_800_000_000)
    /// Bars start here, one minute apart.
    static let barEpoch: Int64 = 1_799_990_000_000_000

    static func d(_ s: String) -> Decimal { Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))! }

    static func sizer(_ configuration: RiskConfiguration = RiskConfiguration()) -> RiskSizer {
        try! RiskSizer(configuration: configuration, clock: ManualClock(start: clockStart))
    }

    static func account(_ balance: String, currency: String = "USD", equity: String? = nil, highWaterMark: String? = nil,
                        dailyPnL: String = "0", id: String = "acct-1") -> Account {
        var a = Account(id: id, firm: "ftmo-like", currency: currency, initialBalance: d(balance))
        a.equity = d(equity ?? balance)
        a.highWaterMark = d(highWaterMark ?? balance)
        a.dailyPnL = d(dailyPnL)
        return a
    }

    static func tick(_ symbol: String, bid: String, ask: String, time: Int64 = 1_800_000_000_000_000) -> Tick {
        Tick(instrument: symbol, bid: d(bid), ask: d(ask), volume: 1, time: time)
    }

    static func signal(_ symbol: String, _ side: Side, entry: String, stop: String, target: String, id: String = "sig-1") -> Signal {
        Signal(id: id, instrument: symbol, side: side, entry: d(entry), stopLoss: d(stop), takeProfit: d(target), confidence: 0.8,
               pattern: "spring", phase: "accumulation", evidence: [:], createdAt: 1_800_000_000_000_000)
    }

    /// `count` bars at a constant `price` whose range shrinks by one `step` per bar, so every
    /// true range is smaller than the last and the latest Wilder ATR is the lowest of the
    /// lookback: percentile 0, volatility factor exactly 1. Keeps the volatility factor out of
    /// the hand-checked sizes.
    static func calmingBars(_ symbol: String, price: String, step: String, count: Int = 60) -> [Bar] {
        let p = d(price), s = d(step)
        return (0..<count).map { i in
            let half = s * Decimal(count + 10 - i) / 2
            return Bar(instrument: symbol, timeframeSeconds: 60, start: barEpoch + Int64(i) * 60_000_000, open: p, high: p + half,
                       low: p - half, close: p, volume: 10, tickCount: 10)
        }
    }

    /// Bars at a constant close of 100 with the given high − low ranges (even integers, so
    /// every true range and ATR is exact in binary floating point).
    static func rangeBars(_ symbol: String, ranges: [Int]) -> [Bar] {
        ranges.enumerated().map { i, r in
            let half = Decimal(r) / 2
            return Bar(instrument: symbol, timeframeSeconds: 60, start: barEpoch + Int64(i) * 60_000_000, open: 100,
                       high: 100 + half, low: 100 - half, close: 100, volume: 10, tickCount: 10)
        }
    }

    /// Bars whose close-to-close returns are exactly `returns` (closes multiply in Decimal).
    static func bars(_ symbol: String, start: String, returns: [Decimal]) -> [Bar] {
        var close = d(start)
        var out = [Bar(instrument: symbol, timeframeSeconds: 60, start: barEpoch, open: close, high: close, low: close, close: close,
                       volume: 10, tickCount: 10)]
        for (i, r) in returns.enumerated() {
            let open = close
            close = open * (1 + r)
            out.append(Bar(instrument: symbol, timeframeSeconds: 60, start: barEpoch + Int64(i + 1) * 60_000_000, open: open,
                           high: max(open, close), low: min(open, close), close: close, volume: 10, tickCount: 10))
        }
        return out
    }

    /// Two return patterns over 40 bars with zero mean and zero covariance with each other:
    /// `x` alternates +a, −a; `z` goes +a, +a, −a, −a. Any series built as x + z has
    /// correlation cov(x, x+z) / (σx σ(x+z)) = a² / (a · a√2) = 1/√2 ≈ 0.7071 with x.
    static let a = d("0.001")
    static let x: [Decimal] = (0..<40).map { $0 % 2 == 0 ? a : -a }
    static let z: [Decimal] = (0..<40).map { ($0 / 2) % 2 == 0 ? a : -a }
    static let xPlusZ: [Decimal] = zip(x, z).map { $0 + $1 }
    static let minusX: [Decimal] = x.map { -$0 }
}
