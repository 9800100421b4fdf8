import Foundation
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// `TradeHistory` against the trading database: the first read takes every fill, later ones only
/// the fills stored since (by `fills.seq`, with a small overlap), and the trades equal those of a
/// history that reads everything afresh.
final class TradeHistoryTests: XCTestCase {
    func testLaterReadsTakeOnlyTheNewFillsAndGiveTheSameTrades() throws {
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: try TestServices.postgresURL()), metrics: MetricsRegistry())
        defer { pool.shutdown() }
        try TradingSchema.migrate(pool: pool, logger: Logger(service: "test", level: .warning))
        let run = UUID().uuidString.prefix(8).lowercased()
        let account = "trades-\(run)"
        try AccountStore(pool: pool).ensure([Account(id: account, firm: "ftmo-like", initialBalance: 100_000)])
        let signalId = "trades-signal-\(run)"
        let now = HopClock.nowMicros()
        let signal = Envelope(id: signalId, type: "signal.generated", traceId: "t", source: "test",
                              payload: Signal(id: signalId, instrument: "EUR_USD", side: .buy, entry: 1, stopLoss: Decimal(string: "0.9")!,
                                              takeProfit: Decimal(string: "1.2")!, confidence: 0.7, pattern: "spring", phase: "C",
                                              evidence: [:], createdAt: now))
        func order(_ n: Int, _ side: Side) -> Order {
            var o = Order(id: "trades-\(run)-\(n)", signalId: signalId, accountId: account, instrument: "EUR_USD", side: side, type: .market,
                          quantity: 1, stopLoss: nil, takeProfit: nil, createdAt: now + Int64(n))
            o.decisions = [Decision(agent: "aria-risk", verdict: .approved, decidedAt: now)]
            return o
        }
        let orders = (0..<4).map { order($0, $0 % 2 == 0 ? .buy : .sell) }
        try OrderStore(pool: pool).recordSizing(signal: signal, orders: orders.map { ($0, []) }, agent: "aria-risk", processingMs: 1)
        func fill(_ n: Int, price: String, pnl: String) throws {
            let o = orders[n]
            try pool.execute("""
                INSERT INTO fills (id, order_id, account_id, instrument, side, quantity, price, spread, slippage, commission, realized_pnl,
                                   filled_at, account_epoch)
                VALUES ($1, $2, $3, 'EUR_USD', $4, 1, $5, 0, 0, 3.5, $6, $7, 0)
                """, ["\(o.id)#1", o.id, account, o.side.rawValue, Decimal(string: price)!, Decimal(string: pnl)!,
                      Date(micros: now + Int64(n) * 60_000_000)])
        }
        let ledger = ClosedTradeLedger()
        // No overlap: the second read must take exactly the two new fills (tests run one at a
        // time, so nothing else writes fills meanwhile).
        let history = TradeHistory(pool: pool, ledger: ledger, overlap: 0)

        // One round trip: bought at 1.1, sold at 1.2.
        try fill(0, price: "1.1", pnl: "0")
        try fill(1, price: "1.2", pnl: "10000")
        XCTAssertEqual(try history.closedTrades(accounts: [account]).count, 1)
        let afterFirst = history.held.rowsRead
        XCTAssertGreaterThanOrEqual(afterFirst, 2, "the first read takes every fill")

        // A second round trip: the next read takes the two new fills and at most the overlap.
        try fill(2, price: "1.15", pnl: "0")
        try fill(3, price: "1.1", pnl: "-5000")
        let trades = try history.closedTrades(accounts: [account])
        XCTAssertEqual(trades.count, 2)
        XCTAssertEqual(history.held.rowsRead - afterFirst, 2, "only the fills since the last read, not all")
        XCTAssertEqual(history.held.replays, 0, "the new fills are folded on, not replayed from the first")
        XCTAssertEqual(trades.map(\.id).sorted(), try TradeHistory(pool: pool, ledger: ledger).closedTrades(accounts: [account]).map(\.id).sorted())
        XCTAssertEqual(try history.closedTrades(accounts: []), [])

        // A fill stored late with an earlier time than the position's last: everything is replayed
        // from the first, and the trades are again those of a fresh read.
        let late = order(4, .buy)
        try OrderStore(pool: pool).recordSizing(signal: signal, orders: [(late, [])], agent: "aria-risk", processingMs: 1)
        try pool.execute("""
            INSERT INTO fills (id, order_id, account_id, instrument, side, quantity, price, spread, slippage, commission, realized_pnl,
                               filled_at, account_epoch)
            VALUES ($1, $2, $3, 'EUR_USD', 'buy', 1, 1.12, 0, 0, 3.5, 0, $4, 0)
            """, ["\(late.id)#1", late.id, account, Date(micros: now + 30_000_000)])
        let replayed = try history.closedTrades(accounts: [account])
        XCTAssertEqual(history.held.replays, 1)
        XCTAssertEqual(replayed, try TradeHistory(pool: pool, ledger: ledger).closedTrades(accounts: [account]))

        // With the usual overlap the last fills are read again at every call: unchanged, they are
        // not folded twice and nothing is replayed; read again with other figures (the signal's
        // pattern corrected), everything is replayed and the trades carry the new pattern.
        let overlapping = TradeHistory(pool: pool, ledger: ledger)
        let first = try overlapping.closedTrades(accounts: [account])
        XCTAssertEqual(try overlapping.closedTrades(accounts: [account]), first)
        XCTAssertEqual(overlapping.held.replays, 0, "fills read again unchanged made a replay")
        try pool.execute("UPDATE signals SET pattern = 'upthrust' WHERE id = $1", [signalId])
        let corrected = try overlapping.closedTrades(accounts: [account])
        XCTAssertEqual(overlapping.held.replays, 1)
        XCTAssertEqual(Set(corrected.map(\.pattern)), ["upthrust"])
        XCTAssertEqual(corrected, try TradeHistory(pool: pool, ledger: ledger).closedTrades(accounts: [account]))
    }
}
