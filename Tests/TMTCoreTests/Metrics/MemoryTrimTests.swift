import Foundation
import XCTest
@testable import TMTMetrics
import TMTBase

final class MemoryTrimTests: XCTestCase {
    /// Memory freed below a block still in use cannot leave the heap by itself (glibc returns
    /// only its top): 40 MB of small blocks, written, freed under a live sentinel, stay resident
    /// until a trim hands their pages back.
    func testATrimGivesBackFreedHeapPagesAndCountsThem() throws {
        try XCTSkipUnless(MemoryTrimmer.isAvailable, "this C library has no malloc_trim")
        let registry = MetricsRegistry()
        let trimmer = MemoryTrimmer(interval: 3600, metrics: registry)
        // Allocated on a thread of its own (its own arena, as the services' consumer threads).
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var sentinel: UnsafeMutableRawPointer?
        nonisolated(unsafe) var residentWithFreedBlocks = 0.0, residentBefore = 0.0
        Thread.detachNewThread {
            residentBefore = MemoryTrimmer.residentBytes() ?? 0
            var blocks: [UnsafeMutableRawPointer] = []
            blocks.reserveCapacity(40_000)
            for _ in 0..<40_000 {
                let p = malloc(1024)!
                memset(p, 0x5A, 1024)
                blocks.append(p)
            }
            let s = malloc(1024)!
            memset(s, 1, 1024)
            sentinel = s
            for p in blocks { free(p) }
            residentWithFreedBlocks = MemoryTrimmer.residentBytes() ?? 0
            done.signal()
        }
        done.wait()
        defer { free(sentinel) }
        XCTAssertGreaterThan(residentWithFreedBlocks - residentBefore, 30_000_000, "the freed blocks should still be resident")
        let freed = try XCTUnwrap(trimmer.trimNow())
        XCTAssertGreaterThan(freed, 30_000_000, "a trim should give back most of the 40 MB")
        let text = registry.exposition()
        XCTAssertTrue(text.contains("tmt_process_memory_trims_total 1"), text)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("tmt_process_memory_trimmed_bytes_total ") })
        XCTAssertEqual(Double(line.split(separator: " ")[1]) ?? 0, freed, accuracy: 1)
        XCTAssertTrue(text.contains("tmt_process_memory_trim_seconds_count 1"), text)
        // Nothing left to give back: a second trim releases (almost) nothing and still counts.
        XCTAssertLessThan(try XCTUnwrap(trimmer.trimNow()), 5_000_000)
        XCTAssertTrue(registry.exposition().contains("tmt_process_memory_trims_total 2"))
    }

    /// A stopped task ends at once, not after its interval: the trimmer's task runs last in every
    /// service's shutdown, and waiting out a 10 s interval added seconds to each stop.
    func testAStoppedPeriodicTaskEndsWithoutWaitingOutItsInterval() {
        let task = PeriodicTask(interval: 60)
        let runs = Locked(0)
        task.start { runs.withLock { $0 += 1 } }
        let deadline = Date().addingTimeInterval(5)
        while runs.withLock({ $0 }) == 0, Date() < deadline { usleep(1_000) }
        let t0 = Date()
        XCTAssertTrue(task.stop(), "the loop should end within stop()'s wait")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1)
        XCTAssertEqual(runs.withLock { $0 }, 1)
    }

    /// Started with `immediately: false`, the first run comes one interval later (the caller ran
    /// the body itself just before), and a stop during that first wait ends the loop unrun.
    func testAPeriodicTaskStartedLaterRunsFirstAfterOneInterval() {
        let task = PeriodicTask(interval: 0.5)
        let runs = Locked<[Date]>([])
        let began = Date()
        task.start(immediately: false) { runs.withLock { $0.append(Date()) } }
        usleep(200_000)
        XCTAssertEqual(runs.withLock { $0.count }, 0, "ran before its first interval")
        let deadline = Date().addingTimeInterval(5)
        while runs.withLock({ $0.count }) < 2, Date() < deadline { usleep(10_000) }
        XCTAssertTrue(task.stop())
        let times = runs.withLock { $0 }
        XCTAssertGreaterThanOrEqual(times.count, 2)
        XCTAssertGreaterThanOrEqual(times[0].timeIntervalSince(began), 0.45)

        let idle = PeriodicTask(interval: 60)
        let none = Locked(0)
        idle.start(immediately: false) { none.withLock { $0 += 1 } }
        usleep(100_000)
        let t0 = Date()
        XCTAssertTrue(idle.stop())
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1)
        XCTAssertEqual(none.withLock { $0 }, 0)
    }
}
