import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// An account restart (`account.restart`) as the circuit breaker sees it: a higher epoch on
/// `accounts.updates` resets a drawdown trip and drops the accepted baseline; a manual trip
/// stays; an update from before the restart (lower epoch) changes nothing.
final class BreakerAccountRestartTests: XCTestCase {
    typealias F = BreakerFixture

    static func restarted(_ id: String, epoch: Int, equity: String = "100000") -> Account {
        var a = F.account(id, equity: equity)
        a.epoch = epoch
        a.balance = a.equity
        return a
    }

    func testAHigherEpochResetsTheDrawdownTripAndAStaleUpdateIsIgnored() throws {
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95500"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
        XCTAssertEqual(cb.accountEpoch("acc-1"), 0)

        let events = cb.apply(account: Self.restarted("acc-1", epoch: 1))
        let reset = try XCTUnwrap(events.first { $0.tier == .account && $0.target == "acc-1" }, "\(events)")
        XCTAssertEqual([reset.from, reset.to], [.tripped, .normal])
        XCTAssertEqual(reset.reason.cause, .accountRestart)
        XCTAssertEqual(reset.reason.detail, "account acc-1 restarted as a fresh challenge (epoch 0 → 1) at balance 100,000.00")
        XCTAssertEqual(cb.state(.account("acc-1")), .normal)
        XCTAssertEqual(cb.accountEpoch("acc-1"), 1)
        XCTAssertTrue(cb.evaluate(order: F.order()).verdict.isCleared)

        // A throttled update of the previous challenge consumed after the restart: ignored.
        XCTAssertEqual(cb.apply(account: F.account("acc-1", equity: "95000")), [])
        XCTAssertEqual(cb.state(.account("acc-1")), .normal)
        XCTAssertEqual(cb.accountEpoch("acc-1"), 1)

        // The new challenge is measured as any other: 4 % of 100,000 trips again.
        _ = cb.apply(account: Self.restarted("acc-1", epoch: 1, equity: "96000"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
    }

    /// Restarted while the breaker was down: the snapshot keeps each account's epoch, so the
    /// first update after the restore, at a higher epoch, resets the restored drawdown trip.
    func testAnEpochKeptInTheSnapshotRecognisesARestartAfterARestore() throws {
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-1", equity: "95500"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
        let snapshot = try BreakerSnapshot.decode(try cb.snapshot().encoded())
        XCTAssertEqual(snapshot.accountEpochs, ["acc-1": 0, "acc-2": 0])
        var restored = CircuitBreaker(configuration: F.configuration(), clock: cb.clock, restoring: snapshot)
        XCTAssertEqual(restored.accountEpoch("acc-1"), 0)
        let events = restored.apply(account: Self.restarted("acc-1", epoch: 1))
        XCTAssertTrue(events.contains { $0.target == "acc-1" && $0.to == .normal && $0.reason.cause == .accountRestart }, "\(events)")
        XCTAssertEqual(restored.breakers[.account("acc-1")]?.state, .normal)
        // A snapshot from before restarts existed (no accountEpochs) still decodes.
        var json = String(decoding: try snapshot.encoded(), as: UTF8.self)
        json = json.replacingOccurrences(of: #","accountEpochs":{"acc-1":0,"acc-2":0}"#, with: "")
        XCTAssertFalse(json.contains("accountEpochs"), json)
        XCTAssertNil(try BreakerSnapshot.decode(Array(json.utf8)).accountEpochs)
    }

    func testAManualTripSurvivesARestartAndTheSameEpochIsNoRestart() throws {
        var (cb, _) = F.live()
        _ = cb.apply(account: F.account("acc-2", equity: "100000"))
        _ = cb.handle(F.command("cmd-t", .trip, .account, "acc-2", reason: "hold"))
        XCTAssertEqual(cb.state(.account("acc-2")), .tripped)
        let events = cb.apply(account: Self.restarted("acc-2", epoch: 1))
        XCTAssertFalse(events.contains { $0.target == "acc-2" && $0.to == .normal }, "\(events)")
        XCTAssertEqual(cb.state(.account("acc-2")), .tripped)

        // Same epoch again: figures only.
        _ = cb.apply(account: F.account("acc-1", equity: "95500"))
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
        var same = F.account("acc-1", equity: "95400")
        same.epoch = 0
        XCTAssertFalse(cb.apply(account: same).contains { $0.to == .normal })
        XCTAssertEqual(cb.state(.account("acc-1")), .tripped)
    }
}
