import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import XCTest

/// `tmt-execution-engine` when a day start cannot be written: the account's row keeps the
/// previous day's start, which no later mark matches, so the engine writes the day again once
/// the database takes it and the row's equity follows the marks again.
final class ExecutionDayStartRetryTests: XCTestCase {
    func testADayStartTheDatabaseRefusedIsStoredLaterAndMarksResume() throws {
        let engine = try ExecutionEngineHarness("day-retry")
        let (agent, pool, producer, accountId) = (engine.agent, engine.pool, engine.producer, engine.accountId)
        let initial = Decimal(100_000)
        let feed = QuoteFeed(producer: producer)
        defer { feed.stop() }
        let decimal = engine.accountDecimal

        // One lot long EUR_USD, then the market rises: the row's equity follows the marks.
        try engine.sendMarket(.buy, lots: 1, label: "day-retry-entry")
        XCTAssertTrue(KafkaWait.until(timeout: 40) { engine.eurUsdQuantity() == 1 }, "the entry never filled:\n\(agent.log.suffix(4000))")
        feed.set(bid: "1.08700", ask: "1.08708")
        XCTAssertTrue(KafkaWait.until(timeout: 30) { (decimal("equity") ?? 0) > initial + 100 },
                      "the row's equity never followed the rise:\n\(agent.log.suffix(3000))")
        let dayBefore = decimal("day_start_equity")

        // The day reset while the database refuses every write to the account's row.
        let refusing = try RefusingTrigger(pool: pool, table: "accounts", column: "id", type: "text", event: "UPDATE")
        defer { refusing.remove() }
        try refusing.refuse(accountId)
        let command = StagingCommand(id: "test-day-retry-\(UUID().uuidString.prefix(8))", action: .dayReset, accounts: [accountId],
                                     reason: "integration test", requestedBy: "tester", issuedAt: HopClock.nowMicros())
        _ = try producer.send(Envelope(id: command.id, type: "staging.command", traceId: "cmd-\(command.id)", source: "test", payload: command),
                              to: .stagingCommands, key: "staging").wait(timeout: 10)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { agent.log.contains("trading day not stored; will retry") && agent.log.contains(accountId) },
                      "the refused day start was not reported:\n\(agent.log.suffix(3000))")
        XCTAssertEqual(decimal("day_start_equity"), dayBefore, "the refused write changed the row")

        // The market moves on; the database takes writes again.
        feed.set(bid: "1.08900", ask: "1.08908")
        usleep(1_000_000)
        try refusing.accept(accountId)
        XCTAssertTrue(KafkaWait.until(timeout: 30) { agent.log.contains("trading day stored after a failed write") },
                      "the day start was never written again:\n\(agent.log.suffix(3000))")
        // The day's start is the equity at the reset (the market at 1.087), not the previous one,
        // and the row's equity follows the marks again (the market at 1.089).
        let dayStart = try XCTUnwrap(decimal("day_start_equity"), "no day start stored")
        XCTAssertNotEqual(dayStart, dayBefore)
        XCTAssertGreaterThan(dayStart, initial + 100)
        XCTAssertLessThan(dayStart, initial + 300)
        // Marks are stored against it again: the market moves once more (the retry itself wrote
        // the equity of 1.089) and the row's equity follows.
        feed.set(bid: "1.09100", ask: "1.09108")
        XCTAssertTrue(KafkaWait.until(timeout: 30) { (decimal("equity") ?? 0) > dayStart + 300 },
                      "the marks were not stored after the day start: equity \(decimal("equity") ?? -1), day start \(dayStart)\n\(agent.log.suffix(3000))")
        let day = ((try? pool.queryOne("SELECT trading_day FROM accounts WHERE id = $1", [accountId])) ?? nil)
            .flatMap { try? $0.decode(String?.self, column: "trading_day") }
        XCTAssertNotNil(day, "no trading day stored")
        XCTAssertEqual(agent.terminate(), 0, agent.log.suffix(2000).description)
    }
}
