import Foundation
import Synchronization
import TMTBase
import XCTest

final class FreshReadTests: XCTestCase {
    struct Failure: Error, Equatable { var n: Int }

    func testEveryCallerIsServedByAReadThatStartedAfterItCalledAndReadsAreShared() throws {
        let shared = FreshRead<Int>()
        // One ordering for arrivals and read starts: a read's value is the tick it started at.
        let clock = Atomic<Int>(0)
        let violations = Atomic<Int>(0)
        let served = Atomic<Int>(0)
        let callers = 40, rounds = 5
        // Real threads (concurrentPerform would run only as many at once as there are cores).
        let group = DispatchGroup()
        for _ in 0..<callers {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for _ in 0..<rounds {
                    let arrived = clock.add(1, ordering: .sequentiallyConsistent).newValue
                    let value = try! shared.get {
                        let startedAt = clock.add(1, ordering: .sequentiallyConsistent).newValue
                        usleep(5_000)   // a query's worth of time, so callers pile up
                        return startedAt
                    }
                    if value <= arrived { violations.add(1, ordering: .relaxed) }
                    served.add(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(served.load(ordering: .relaxed), callers * rounds)
        XCTAssertEqual(violations.load(ordering: .relaxed), 0, "no caller got a read that started before it called")
        XCTAssertLessThan(shared.reads, callers * rounds / 2, "concurrent callers shared reads (\(shared.reads) reads for \(callers * rounds) calls)")
        XCTAssertGreaterThanOrEqual(shared.reads, rounds, "each caller's calls are sequential, so at least one read per round")
    }

    func testAReadsErrorGoesToTheCallersItServedAndTheNextCallReadsAgain() {
        let shared = FreshRead<String>()
        var n = 0
        XCTAssertThrowsError(try shared.get { n += 1; throw Failure(n: n) }) { XCTAssertEqual($0 as? Failure, Failure(n: 1)) }
        XCTAssertEqual(try shared.get { n += 1; return "read \(n)" }, "read 2", "a failed read is not reused")
        XCTAssertEqual(try shared.get { n += 1; return "read \(n)" }, "read 3", "a lone caller always gets its own new read")
        XCTAssertEqual(shared.reads, 3)
    }
}
