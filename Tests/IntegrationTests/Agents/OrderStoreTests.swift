import Foundation
import TMTCore
import TMTPipeline
import XCTest

/// `OrderStore` against the real trading schema: ARIA's sizing record (signal, orders, events in
/// one round trip, all or nothing) and an agent's event (one statement: the event, and the row's
/// move only when the event is new and only forward in the lifecycle).
final class OrderStoreTests: XCTestCase {
    private func store() throws -> OrderStore {
        let pool = try PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL()), metrics: MetricsRegistry())
        try TradingSchema.migrate(pool: pool, logger: Logger(service: "test", level: .warning))
        for id in ["store-test-a", "store-test-b"] {
            try pool.execute("""
                INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, high_water_mark)
                VALUES ($1, 'ftmo-like', 'USD', 100000, 100000, 100000, 100000) ON CONFLICT (id) DO NOTHING
                """, [id])
        }
        return OrderStore(pool: pool)
    }

    private func sized(_ signalId: String, account: String) -> Order {
        var order = Order(id: Order.id(signalId: signalId, accountId: account), signalId: signalId, accountId: account,
                          instrument: "EUR_USD", side: .buy, type: .market, quantity: Decimal(string: "0.50")!,
                          stopLoss: Decimal(string: "1.0800")!, takeProfit: Decimal(string: "1.0900")!, createdAt: HopClock.nowMicros())
        order.decisions = [Decision(agent: "aria-risk", verdict: .approved, figures: ["lots": "0.50"], decidedAt: HopClock.nowMicros())]
        return order
    }

    private func signal(_ id: String) -> Envelope<Signal> {
        Envelope(id: id, type: "signal.generated", traceId: "trace-\(id)", source: "test",
                 payload: Signal(id: id, instrument: "EUR_USD", side: .buy, entry: Decimal(string: "1.0850")!,
                                 stopLoss: Decimal(string: "1.0800")!, takeProfit: Decimal(string: "1.0900")!, confidence: 0.7,
                                 pattern: "spring", phase: "C", evidence: ["volumeRatio": "2.1"], createdAt: HopClock.nowMicros()))
    }

    private func status(_ store: OrderStore, _ id: String) throws -> String? {
        try store.pool.queryOne("SELECT status FROM orders WHERE id = $1", [id])?.decode(String.self, column: "status")
    }

    private func events(_ store: OrderStore, _ id: String) throws -> [String] {
        try store.pool.query("SELECT agent FROM order_events WHERE order_id = $1 ORDER BY message_id", [id])
            .map { try $0.decode(String.self, column: "agent") }
    }

    func testSizingRecordsSignalOrdersAndEventsAndARedeliveryRepeatsNothing() throws {
        let store = try store()
        let id = "store-test-\(UUID().uuidString.prefix(8))"
        let orders = ["store-test-a", "store-test-b"].map { sized(id, account: $0) }
        let hops = [Hop(agent: "test", inMicros: 1, outMicros: 2)]
        try store.recordSizing(signal: signal(id), orders: orders.map { ($0, hops) }, agent: "aria-risk", processingMs: 1.5)
        try store.recordSizing(signal: signal(id), orders: orders.map { ($0, hops) }, agent: "aria-risk", processingMs: 1.5)
        XCTAssertEqual(try store.pool.queryOne("SELECT count(*)::int8 AS n FROM signals WHERE id = $1", [id])?.decode(Int64.self, column: "n"), 1)
        for order in orders {
            XCTAssertEqual(try status(store, order.id), "proposed")
            XCTAssertEqual(try events(store, order.id), ["aria-risk"])
        }
    }

    func testSizingIsAllOrNothing() throws {
        let store = try store()
        let id = "store-test-\(UUID().uuidString.prefix(8))"
        // The second order's account does not exist: its insert fails on the server (foreign
        // key) after the signal's and the first order's already ran; none of them is kept.
        XCTAssertThrowsError(try store.recordSizing(signal: signal(id), orders: [(sized(id, account: "store-test-a"), []),
                                                                                 (sized(id, account: "store-test-missing"), [])],
                                                    agent: "aria-risk", processingMs: 1)) { error in
            XCTAssertTrue("\(error)".contains("statement 4 of 5"), "\(error)")
        }
        XCTAssertNil(try status(store, Order.id(signalId: id, accountId: "store-test-a")), "no order of the failed record was kept")
        XCTAssertEqual(try events(store, Order.id(signalId: id, accountId: "store-test-a")), [])
        XCTAssertEqual(try store.pool.queryOne("SELECT count(*)::int8 AS n FROM signals WHERE id = $1", [id])?.decode(Int64.self, column: "n"), 0)
    }

    func testASignalForMoreAccountsThanOneRoundTripTakesIsStoredWholeOrNotAtAll() throws {
        let store = try store()
        // 300 accounts: the signal, 300 orders and 300 events are 601 statements, more than
        // one pipeline sync takes (256), so they go in three groups inside one transaction.
        let accounts = (0..<300).map { String(format: "store-many-%03d", $0) }
        try store.pool.executeBatch("""
            INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, high_water_mark)
            VALUES ($1, 'ftmo-like', 'USD', 100000, 100000, 100000, 100000) ON CONFLICT (id) DO NOTHING
            """, accounts.map { [$0] })
        XCTAssertGreaterThan(1 + 2 * accounts.count, PostgresConnection.statementsTogether)

        let id = "store-test-\(UUID().uuidString.prefix(8))"
        try store.recordSizing(signal: signal(id), orders: accounts.map { (sized(id, account: $0), []) }, agent: "aria-risk", processingMs: 1)
        XCTAssertEqual(try store.pool.queryOne("SELECT count(*)::int8 AS n FROM orders WHERE signal_id = $1", [id])?.decode(Int64.self, column: "n"), 300)
        XCTAssertEqual(try store.pool.queryOne("""
            SELECT count(*)::int8 AS n FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.signal_id = $1
            """, [id])?.decode(Int64.self, column: "n"), 300)

        // The last order's account is missing: statement 600 (in the third group) fails after
        // the first two groups ran; the whole record is rolled back and the position is the
        // statement's place in the whole list.
        let failing = "store-test-\(UUID().uuidString.prefix(8))"
        var orders = accounts.map { (sized(failing, account: $0), [Hop]()) }
        orders[299] = (sized(failing, account: "store-test-missing"), [])
        XCTAssertThrowsError(try store.recordSizing(signal: signal(failing), orders: orders, agent: "aria-risk", processingMs: 1)) { error in
            XCTAssertTrue("\(error)".contains("statement 600 of 601"), "\(error)")
        }
        XCTAssertEqual(try store.pool.queryOne("SELECT count(*)::int8 AS n FROM orders WHERE signal_id = $1", [failing])?.decode(Int64.self, column: "n"), 0)
        XCTAssertEqual(try store.pool.queryOne("SELECT count(*)::int8 AS n FROM signals WHERE id = $1", [failing])?.decode(Int64.self, column: "n"), 0)
    }

    func testAnEventMovesTheRowForwardOnceAndNeverBack() throws {
        let store = try store()
        let id = "store-test-\(UUID().uuidString.prefix(8))"
        var order = sized(id, account: "store-test-a")
        try store.recordSizing(signal: signal(id), orders: [(order, [])], agent: "aria-risk", processingMs: 1)

        var approved = order
        try approved.advance(to: .approved, decision: Decision(agent: "compliance-engine", verdict: .approved, decidedAt: HopClock.nowMicros()))
        var cleared = approved
        try cleared.advance(to: .decorrelated, decision: Decision(agent: "anti-correlation", verdict: .approved, decidedAt: HopClock.nowMicros()))
        cleared.quantity = Decimal(string: "0.30")!
        let trail = [Hop(agent: "aria-risk", inMicros: 1, outMicros: 2), Hop(agent: "anti-correlation", inMicros: 3, outMicros: 4)]

        // The later stage commits first; the earlier one's late write must not move the row back.
        try store.recordEvent(order: cleared, agent: "anti-correlation", messageId: "\(id):anti", processingMs: 1, hops: trail)
        try store.recordEvent(order: approved, agent: "compliance-engine", messageId: "\(id):compliance", processingMs: 1)
        XCTAssertEqual(try status(store, order.id), "decorrelated")
        let row = try XCTUnwrap(try store.pool.queryOne("SELECT quantity, hops::text AS hops FROM orders WHERE id = $1", [order.id]))
        XCTAssertEqual(try row.decode(Decimal.self, column: "quantity"), Decimal(string: "0.30"))
        XCTAssertTrue(try row.decode(String.self, column: "hops").contains("anti-correlation"))
        XCTAssertEqual(Set(try events(store, order.id)), ["aria-risk", "compliance-engine", "anti-correlation"], "both events are kept")

        // A redelivered event (same message id) changes nothing, even with different content.
        var replay = cleared
        replay.quantity = Decimal(string: "0.10")!
        try store.recordEvent(order: replay, agent: "anti-correlation", messageId: "\(id):anti", processingMs: 1)
        XCTAssertEqual(try store.pool.queryOne("SELECT quantity FROM orders WHERE id = $1", [order.id])?.decode(Decimal.self, column: "quantity"),
                       Decimal(string: "0.30"))
        XCTAssertEqual(try events(store, order.id).count, 3)

        // An event for an order with no row (made outside the sizing path) is kept on its own.
        order.id = "\(id):no-row"
        try store.recordEvent(order: order, agent: "circuit-breaker", messageId: "\(id):no-row:breaker", processingMs: 1)
        XCTAssertEqual(try events(store, order.id), ["circuit-breaker"])
        XCTAssertNil(try status(store, order.id))
    }
}
