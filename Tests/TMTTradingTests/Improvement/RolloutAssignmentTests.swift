import Foundation
import XCTest
@testable import TMTTrading

final class RolloutAssignmentTests: XCTestCase {
    private let accounts = (0..<10_000).map { "acct-\($0)" }

    func testStagesTakeExactProportionsAndContainEachOther() {
        let assignment = RolloutAssignment(experimentId: "exp-1", accounts: accounts)
        XCTAssertEqual([10, 25, 50, 100].map { assignment.accounts(atPercent: $0).count }, [1_000, 2_500, 5_000, 10_000])
        let ten = Set(assignment.accounts(atPercent: 10))
        let quarter = Set(assignment.accounts(atPercent: 25))
        XCTAssertTrue(ten.isSubset(of: quarter))
        XCTAssertTrue(quarter.isSubset(of: Set(assignment.accounts(atPercent: 50))))
    }

    func testAssignmentIsDeterministicAndPerExperiment() {
        let first = RolloutAssignment(experimentId: "exp-1", accounts: accounts)
        let again = RolloutAssignment(experimentId: "exp-1", accounts: accounts.reversed())
        XCTAssertEqual(first.accounts(atPercent: 10), again.accounts(atPercent: 10), "input order must not matter")
        let other = RolloutAssignment(experimentId: "exp-2", accounts: accounts)
        let overlap = Set(first.accounts(atPercent: 10)).intersection(other.accounts(atPercent: 10)).count
        // Independent 10 % draws share about 10 % of 1 000 = 100 accounts; identical would be 1 000.
        XCTAssertLessThan(overlap, 200)
    }

    func testHashIsStableFNV1a() {
        // FNV-1a 64 reference vectors: "" is the offset basis; "a" is 0xaf63dc4c8601ec8c.
        XCTAssertEqual(RolloutAssignment.hash(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(RolloutAssignment.hash("a"), 0xaf63_dc4c_8601_ec8c)
    }

    func testSmallAccountSetsRoundUpSoNoStageIsEmpty() {
        let assignment = RolloutAssignment(experimentId: "exp-1", accounts: ["a", "b", "c", "d", "e"])
        // ⌈10·5/100⌉ = 1, ⌈25·5/100⌉ = 2, ⌈50·5/100⌉ = 3, 5.
        XCTAssertEqual([10, 25, 50, 100].map { assignment.count(atPercent: $0) }, [1, 2, 3, 5])
    }
}
