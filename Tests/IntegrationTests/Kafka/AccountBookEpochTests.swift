import Foundation
import TMTCore
import TMTPipeline
import XCTest

/// `AccountBook` on the dev broker: an account update of an earlier challenge (lower epoch) than
/// the one held is ignored, and the positions are left to `positions.updates` (a restart's flat
/// updates remove them; the new challenge's first position stays whichever topic is read first).
final class AccountBookEpochTests: XCTestCase {
    func testALowerEpochIsIgnoredAndPositionsFollowTheirOwnTopic() throws {
        let config = try KafkaTestSupport.configuration(clientId: "account-book-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let id = "acct-book-\(UUID().uuidString.prefix(8).lowercased())"
        let book = try AccountBook(initial: [], kafka: config, service: "book-test", instanceId: String(id.suffix(8)),
                                   deadLetterProducer: producer, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        try book.start()
        defer { book.stop() }

        func account(epoch: Int, balance: Decimal) -> Account {
            var a = Account(id: id, firm: "ftmo-like", initialBalance: 100_000, epoch: epoch)
            a.balance = balance
            a.equity = balance
            return a
        }
        func send(_ a: Account) throws {
            _ = try producer.send(Envelope(id: "\(id)@\(UUID().uuidString)", type: "account.update", traceId: id, source: "test", payload: a),
                                  to: .accountsUpdates, key: id).wait(timeout: 10)
        }
        func send(_ p: Position) throws {
            _ = try producer.send(Envelope(id: "\(id):\(p.instrument)@\(UUID().uuidString)", type: "position.update", traceId: id, source: "test",
                                           payload: p), to: .positionsUpdates, key: id).wait(timeout: 10)
        }
        // The old challenge holds EUR_USD; the restart publishes epoch 1 and a flat EUR_USD; the
        // new challenge opens GBP_USD.
        try send(account(epoch: 0, balance: 91_000))
        try send(Position(accountId: id, instrument: "EUR_USD", quantity: 2, averagePrice: 1, realizedPnL: 0))
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: 30) { book.openPositions(id).count == 1 && book.account(id)?.balance == 91_000 })
        try send(account(epoch: 1, balance: 100_000))
        try send(Position(accountId: id, instrument: "EUR_USD", quantity: 0, averagePrice: 0, realizedPnL: 0))
        try send(Position(accountId: id, instrument: "GBP_USD", quantity: 1, averagePrice: 1, realizedPnL: 0))
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: 30) { book.openPositions(id).map(\.position.instrument) == ["GBP_USD"] },
                      "\(book.openPositions(id))")
        XCTAssertEqual(book.account(id)?.epoch, 1)

        // A late update of the old challenge: ignored (had it been taken, the balance would read
        // 90,500 within milliseconds; the consumer has had two seconds).
        try send(account(epoch: 0, balance: 90_500))
        usleep(2_000_000)
        XCTAssertEqual(book.account(id)?.epoch, 1)
        XCTAssertEqual(book.account(id)?.balance, 100_000)
        XCTAssertEqual(book.openPositions(id).map(\.position.instrument), ["GBP_USD"])
    }

    /// A position is held from the time its update says it was opened (the engine's opening
    /// fill), not from when this reader saw it, so a reader started after the opening (a
    /// compliance restart) measures a minimum hold from the real opening. Positions stored in
    /// the database are known before the topic says anything about them. An update without the
    /// time (JSON from before the field) falls back to the reader's clock.
    func testPositionsAreHeldFromTheirOpeningTimeAndStoredOnesAreKnownAtStart() throws {
        let config = try KafkaTestSupport.configuration(clientId: "account-book-test")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry())
        defer { producer.close() }
        let id = "acct-held-\(UUID().uuidString.prefix(8).lowercased())"
        let opened = Int64(1_795_000_000) * 1_000_000, readerNow = Date(timeIntervalSince1970: 1_795_090_000)
        let stored = Position(accountId: id, instrument: "USD_JPY", quantity: -1, averagePrice: 150, realizedPnL: 0,
                              openedAt: opened - 3_600_000_000)
        let book = try AccountBook(initial: [], positions: [stored, Position(accountId: id, instrument: "AUD_USD")], kafka: config,
                                   service: "book-test", instanceId: String(id.suffix(8)), deadLetterProducer: producer,
                                   metrics: MetricsRegistry(), logger: KafkaTestSupport.logger, now: { readerNow })
        func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1e6) }
        XCTAssertEqual(book.openPositions(id), [AccountBook.OpenPosition(position: stored, openedAt: date(opened - 3_600_000_000))],
                       "the stored open position is known before any update; a stored flat one is not open")
        try book.start()
        defer { book.stop() }
        func send(_ p: Position) throws {
            _ = try producer.send(Envelope(id: "\(id):\(p.instrument)@\(UUID().uuidString)", type: "position.update", traceId: id, source: "test",
                                           payload: p), to: .positionsUpdates, key: id).wait(timeout: 10)
        }
        try send(Position(accountId: id, instrument: "EUR_USD", quantity: 2, averagePrice: 1, realizedPnL: 0, openedAt: opened))
        try send(Position(accountId: id, instrument: "EUR_USD", quantity: 3, averagePrice: 1, realizedPnL: 0, openedAt: opened))
        try send(Position(accountId: id, instrument: "GBP_USD", quantity: 1, averagePrice: 1, realizedPnL: 0))
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: 30) { book.openPositions(id).count == 3 && book.openPositions(id)[0].position.quantity == 3 },
                      "\(book.openPositions(id))")
        let held = Dictionary(uniqueKeysWithValues: book.openPositions(id).map { ($0.position.instrument, $0.openedAt) })
        XCTAssertEqual(held["EUR_USD"], date(opened), "held from its opening fill, not from when it was read")
        XCTAssertEqual(held["GBP_USD"], readerNow, "an update without the time: the reader's clock")
        XCTAssertEqual(held["USD_JPY"], date(opened - 3_600_000_000))
    }
}
