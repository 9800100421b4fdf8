import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// `staging.commands` day reset in the circuit breaker: drawdown trips are reset and the day's
/// drawdown measured from the current equity; manual trips stay; a named account leaves the
/// others and the system alone.
final class BreakerDayResetTests: XCTestCase {
    typealias F = BreakerFixture

    static func dayReset(_ id: String, accounts: [String] = []) -> StagingCommand {
        StagingCommand(id: id, action: .dayReset, accounts: accounts, reason: "drill", requestedBy: "ops-carol", issuedAt: 0)
    }

    func testResetsDrawdownTripsKeepsManualTripsAndRebasesTheSystem() throws {
        var (cb, _) = F.live()
        // acc-1 4.5 % down (tripped); acc-2 flat but manually tripped; the system 2.25 % down (below its 2.4 % warning).
        _ = cb.apply(account: F.account("acc-1", equity: "95500"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
        _ = cb.handle(F.command("cmd-t", .trip, .account, "acc-2", reason: "hold"))
        XCTAssertEqual(cb.state(.account("acc-2")), .tripped)

        let (events, message) = cb.startNewDay(Self.dayReset("day-1"))
        let reset = try XCTUnwrap(events.first { $0.tier == .account && $0.target == "acc-1" })
        XCTAssertEqual([reset.from, reset.to], [.tripped, .normal])
        XCTAssertEqual(reset.reason.cause, .dayReset)
        XCTAssertEqual(reset.reason.requestedBy, "ops-carol")
        XCTAssertEqual(reset.reason.commandId, "day-1")
        XCTAssertEqual(reset.reason.detail, "new trading day by ops-carol: drill")
        XCTAssertFalse(events.contains { $0.target == "acc-2" }, "a manual trip stays: \(events)")
        XCTAssertEqual(message, "new trading day: drawdown re-based for 2 accounts; reset acc-1; manual trips kept: acc-2; system drawdown re-based")
        XCTAssertEqual(cb.state(.account("acc-1")), .normal)
        XCTAssertEqual(cb.state(.account("acc-2")), .tripped)
        XCTAssertTrue(cb.evaluate(order: F.order()).verdict.isCleared, "acc-1 trades again")
        XCTAssertFalse(cb.evaluate(order: F.order("acc-2", id: "sig-1:acc-2")).verdict.isCleared)

        // Until execution's new-day figures arrive the loss is measured from 95,500; they bring a
        // start of 95,500, and 4 % of it (3,820) trips again at 91,680.
        _ = cb.apply(account: F.account("acc-1", equity: "95500"))
        XCTAssertEqual(cb.state(.account("acc-1")), .normal)
        _ = cb.apply(account: F.account("acc-1", start: "95500", equity: "95500"))
        _ = cb.apply(account: F.account("acc-1", start: "95500", equity: "91680.01"))
        XCTAssertEqual(cb.state(.account("acc-1")), .warning)
        _ = cb.apply(account: F.account("acc-1", start: "95500", equity: "91680"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
    }

    func testSystemDrawdownTripIsResetOnlyForEveryAccount() throws {
        var (cb, _) = F.live()
        // 3.5 % each: account breakers warn (≥ 3.2 %), the system (3 % limit over 200,000) trips.
        _ = cb.apply(account: F.account("acc-1", equity: "96500"))
        _ = cb.apply(account: F.account("acc-2", equity: "96500"))
        XCTAssertEqual(cb.state(.system), .tripped)

        let scoped = cb.startNewDay(Self.dayReset("day-a", accounts: ["acc-1"]))
        XCTAssertFalse(scoped.events.contains { $0.tier == .system }, "one account's new day leaves the system alone")
        XCTAssertEqual(cb.state(.system), .tripped)
        XCTAssertEqual(cb.state(.account("acc-1")), .normal, "the warning clears: no loss since the new day's start")
        XCTAssertEqual(cb.state(.account("acc-2")), .warning)
        XCTAssertEqual(scoped.message, "new trading day: drawdown re-based for 1 account")

        let all = cb.startNewDay(Self.dayReset("day-b"))
        let system = try XCTUnwrap(all.events.first { $0.tier == .system })
        XCTAssertEqual([system.from, system.to], [.tripped, .normal])
        XCTAssertEqual(system.reason.cause, .dayReset)
        XCTAssertTrue(all.message.hasSuffix("; system drawdown re-based; system breaker reset"), all.message)
        XCTAssertEqual(cb.state(.system), .normal)
        XCTAssertEqual(cb.state(.account("acc-2")), .normal)
    }
}
