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

    func testUnderConcurrencyFailedReadsServeOnlyTheirOwnCallersAndStayFresh() throws {
        // Every other read fails. Each outcome carries the number of the read that produced it,
        // so each caller can check it was served by a read that started after it called, whether
        // that read succeeded or failed, and that a failed read is never handed on as a value.
        let shared = FreshRead<Int>()
        let clock = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        let violations = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let values = Atomic<Int>(0)
        let started = Locked<[Int: Int]>([:])   // read number → clock when it started
        let group = DispatchGroup()
        for _ in 0..<30 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for _ in 0..<6 {
                    let arrived = clock.add(1, ordering: .sequentiallyConsistent).newValue
                    let number: Int
                    do {
                        number = try shared.get {
                            let n = reads.add(1, ordering: .sequentiallyConsistent).newValue
                            started.withLock { $0[n] = clock.add(1, ordering: .sequentiallyConsistent).newValue }
                            usleep(2_000)
                            if n % 2 == 0 { throw Failure(n: n) }
                            return n
                        }
                        values.add(1, ordering: .relaxed)
                        if number % 2 == 0 { violations.add(1, ordering: .relaxed) }   // a failed read's number as a value
                    } catch let f as Failure {
                        number = f.n
                        failures.add(1, ordering: .relaxed)
                        if number % 2 != 0 { violations.add(1, ordering: .relaxed) }
                    } catch {
                        violations.add(1, ordering: .relaxed)
                        return
                    }
                    if (started.withLock { $0[number] } ?? 0) <= arrived { violations.add(1, ordering: .relaxed) }
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(values.load(ordering: .relaxed) + failures.load(ordering: .relaxed), 30 * 6)
        XCTAssertEqual(violations.load(ordering: .relaxed), 0, "every outcome came from a fresh read, failed reads only as errors")
        XCTAssertGreaterThan(failures.load(ordering: .relaxed), 0)
        XCTAssertGreaterThan(values.load(ordering: .relaxed), 0)
        XCTAssertEqual(shared.reads, reads.load(ordering: .relaxed))
        XCTAssertLessThan(shared.reads, 30 * 6 / 2, "reads were shared (\(shared.reads) for \(30 * 6) calls)")
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
