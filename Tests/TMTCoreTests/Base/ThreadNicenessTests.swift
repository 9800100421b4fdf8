import Foundation
import Synchronization
import XCTest
@testable import TMTBase

/// `TMTThread.setNiceness` lowers the calling thread's CPU priority only (continuous
/// improvement's batch loops use it): the kernel reports the new nice value for that thread,
/// and the other threads of the process keep theirs.
final class ThreadNicenessTests: XCTestCase {
    /// The nice value of thread `tid` of this process, from /proc (field 19 of `stat`).
    private func nice(ofThread tid: String) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8)
        // The command name (field 2) may hold spaces: the fields after it start after ")".
        let after = stat[stat.index(after: try XCTUnwrap(stat.lastIndex(of: ")")))...].split(separator: " ")
        return try XCTUnwrap(Int(after[16]))  // field 19 = the 17th after the name
    }

    /// Thread ids of this process.
    private func threads() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task"))
    }

    func testOnlyTheCallingThreadIsLowered() throws {
        let before = try threads()
        // The main thread's task id is the process id.
        let main = String(getpid())
        XCTAssertEqual(try nice(ofThread: main), 0)
        let lowered = Atomic<Bool>(false)
        let ready = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        XCTAssertTrue(TMTThread.detach(name: "nice-test") {
            lowered.store(TMTThread.setNiceness(10), ordering: .sequentiallyConsistent)
            ready.signal()
            release.wait()
            done.signal()
        })
        XCTAssertEqual(ready.wait(timeout: .now() + 5), .success, "the thread never started")
        XCTAssertTrue(lowered.load(ordering: .sequentiallyConsistent))
        let niceThreads = try threads().subtracting(before).filter { (try? nice(ofThread: $0)) == 10 }
        XCTAssertEqual(niceThreads.count, 1, "the new thread runs at nice 10")
        XCTAssertEqual(try nice(ofThread: main), 0, "the others keep their priority")
        release.signal()
        done.wait()
    }
}
