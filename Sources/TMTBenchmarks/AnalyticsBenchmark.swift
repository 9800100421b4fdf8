import Foundation
import TMTCore
import TMTTrading

/// Continuous improvement's analytics run, without the database: the closed trades from the
/// fills (`ClosedTradeLedger`) and the report (`TradeAnalytics.report`: all trades, then by
/// pattern, instrument and account), as `runAnalytics` does them at every run. The trades
/// both ways: replaying every fill (a reader's first run, or after a late fill), and folding
/// the fills new since the last run onto the previous replay (`TradeHistory`'s usual run: here
/// the last 20 fills). Seeded round trips (an opening and a closing fill each) over three
/// accounts, four instruments and four patterns; single thread; best of `repeats` passes.
enum AnalyticsBenchmark {
    static func run(trades counts: [Int], repeats: Int) throws {
        print("| closed trades | fills | replay all ms | fold 20 new ms | report ms | run ms (fold + report) | µs per trade |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for count in counts {
            progress("\(count) round trips")
            let fills = seededFills(trades: count)
            let ledger = ClosedTradeLedger()
            let analytics = TradeAnalytics(startingBalance: 100_000)
            var replayNs: [UInt64] = [], foldNs: [UInt64] = [], reportNs: [UInt64] = []
            for _ in 0..<repeats {
                var started = Monotonic.nanos()
                let trades = ledger.trades(from: fills)
                replayNs.append(Monotonic.nanos() - started)
                guard trades.count == count else { throw BenchmarkError("replay made \(trades.count) trades of \(count) round trips") }
                // The previous run's replay, held by the reader alone (folded into in place).
                var progress = ClosedTradeLedger.Progress()
                guard ledger.fold(Array(fills.dropLast(20)), into: &progress) else { throw BenchmarkError("the seeded fills did not fold") }
                started = Monotonic.nanos()
                guard ledger.fold(Array(fills.suffix(20)), into: &progress) else { throw BenchmarkError("the new fills did not fold") }
                let folded = progress.replay.trades
                foldNs.append(Monotonic.nanos() - started)
                guard folded == trades else { throw BenchmarkError("folding the new fills gave other trades than replaying them all") }
                started = Monotonic.nanos()
                let rows = analytics.report(trades)
                reportNs.append(Monotonic.nanos() - started)
                guard rows.first(where: { $0.dimension == "overall" })?.statistics.count == count else {
                    throw BenchmarkError("the report does not count every trade")
                }
            }
            let replay = Double(replayNs.min()!) / 1e6, fold = Double(foldNs.min()!) / 1e6, report = Double(reportNs.min()!) / 1e6
            func ms(_ v: Double) -> String { String(format: "%.1f", v) }
            print("| \(count) | \(fills.count) | \(ms(replay)) | \(ms(fold)) | \(ms(report)) | \(ms(fold + report)) | "
                  + "\(ms((fold + report) * 1000 / Double(count))) |")
        }
    }

    /// `trades` round trips, each opened and closed by one fill, one lot, at prices of a seeded walk.
    static func seededFills(trades: Int) -> [ClosedTradeLedger.FillRecord] {
        let accounts = ["acct-ftmo-100k", "acct-strict-50k", "acct-trail-50k"]
        let instruments: [(String, Decimal, Decimal)] = [("EUR_USD", Decimal(string: "1.0850")!, 100_000),
                                                        ("GBP_USD", Decimal(string: "1.2700")!, 100_000),
                                                        ("AUD_USD", Decimal(string: "0.6600")!, 100_000),
                                                        ("XAU_USD", Decimal(string: "2350.00")!, 100)]
        let patterns = ["spring", "upthrust", "sos", "lps"]
        var state: UInt64 = 42
        func next() -> Int {  // a small LCG: the same figures every run
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: (state >> 33) % 2001) - 1000
        }
        var fills: [ClosedTradeLedger.FillRecord] = []
        fills.reserveCapacity(trades * 2)
        var time: Int64 = 1_767_225_600_000_000
        for i in 0..<trades {
            let account = accounts[i % accounts.count], (symbol, base, contract) = instruments[i % instruments.count]
            let side: Side = i % 3 == 0 ? .sell : .buy
            let entry = base + Decimal(next()) / 100_000 * base
            let exit = entry + Decimal(next()) / 1_000_000 * base
            let pnl = (exit - entry) * side.sign * contract
            let order = "bench-\(i)"
            time += 1_000_000
            fills.append(.init(id: "\(order)-open", orderId: "\(order)-open", accountId: account, instrument: symbol, side: side, quantity: 1,
                               price: entry, commission: Decimal(string: "3.5")!, realizedPnL: 0, time: time, pattern: patterns[i % patterns.count]))
            time += 1_000_000
            fills.append(.init(id: "\(order)-close", orderId: "\(order)-close", accountId: account, instrument: symbol,
                               side: side == .buy ? .sell : .buy, quantity: 1, price: exit, commission: Decimal(string: "3.5")!,
                               realizedPnL: pnl, time: time, pattern: patterns[i % patterns.count]))
        }
        return fills
    }
}
