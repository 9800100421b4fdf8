import Foundation
import Synchronization
import XCTest
@testable import TMTCore

final class LifecycleTests: XCTestCase {
    /// SIGTERM runs the shutdown steps once, newest first (stop consuming before closing stores).
    func testSIGTERMRunsShutdownStepsInReverseOrderOnce() {
        let sink = MemoryLogSink()
        let lifecycle = Lifecycle(logger: Logger(service: "test", sink: sink))
        lifecycle.installSignalHandlers()
        let order = Mutex<[String]>([])
        lifecycle.onShutdown("close database") { order.withLock { $0.append("database") } }
        lifecycle.onShutdown("flush producer") { order.withLock { $0.append("producer") } }
        lifecycle.onShutdown("stop consumer") { order.withLock { $0.append("consumer") } }
        XCTAssertFalse(lifecycle.isStopping)

        kill(getpid(), SIGTERM)
        let waited = DispatchSemaphore(value: 0)
        Thread.detachNewThread { lifecycle.wait(); waited.signal() }
        XCTAssertEqual(waited.wait(timeout: .now() + 5), .success, "shutdown did not complete")
        XCTAssertTrue(lifecycle.isStopping)
        lifecycle.shutdown() // a second call must not re-run the steps
        XCTAssertEqual(order.withLock { $0 }, ["consumer", "producer", "database"])
        XCTAssertTrue(sink.all.contains { $0.contains("stop signal received") && $0.contains("SIGTERM") })
    }

    func testAStuckStepIsAbandonedAfterItsTimeout() {
        let lifecycle = Lifecycle(logger: Logger(service: "test", sink: MemoryLogSink()))
        let ran = Mutex(false)
        lifecycle.onShutdown("after") { ran.withLock { $0 = true } }
        lifecycle.onShutdown("stuck", timeout: 0.2) { Thread.sleep(forTimeInterval: 5) }
        let start = Date()
        lifecycle.shutdown()
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertTrue(ran.withLock { $0 })
    }
}

final class HealthChecksTests: XCTestCase {
    struct Down: Error, CustomStringConvertible { var description: String { "connection refused" } }

    func testResultsCarryStatusLatencyAndError() {
        let checks = HealthChecks()
        checks.add("postgres") {}
        checks.add("redis") { throw TMTError(.connection, "cannot connect to Redis at 127.0.0.1:1") }
        checks.add("kafka") { throw Down() }
        let results = checks.runAll()
        XCTAssertEqual(results.map(\.name), ["postgres", "redis", "kafka"])
        XCTAssertEqual(results.map(\.healthy), [true, false, false])
        XCTAssertEqual(results[1].error, "connection: cannot connect to Redis at 127.0.0.1:1")
        XCTAssertEqual(results[2].error, "connection refused")
        XCTAssertTrue(results.allSatisfy { $0.latencyMs >= 0 })
        XCTAssertEqual(checks.lastResults.map(\.name), ["kafka", "postgres", "redis"])
    }
}

final class ServiceOptionsTests: XCTestCase {
    func testEnvironmentThenFlags() throws {
        let env = Environment(["PORT": "9001", "LOG_LEVEL": "debug", "HTTP_HOST": "0.0.0.0"])
        let o = try ServiceOptions.parse(service: "aria-risk", defaultPort: 8004, arguments: ["--port", "9100"], environment: env)
        XCTAssertEqual(o.port, 9100)
        XCTAssertEqual(o.host, "0.0.0.0")
        XCTAssertEqual(o.logLevel, .debug)
        let d = try ServiceOptions.parse(service: "aria-risk", defaultPort: 8004, arguments: [], environment: Environment([:]))
        XCTAssertEqual(d.port, 8004)
        XCTAssertEqual(d.host, "127.0.0.1")
    }

    /// Two starts of one process image with the same hostname and pid (a restarted container's
    /// PID 1) are different instances: their per-process consumer groups must not resume each
    /// other's offsets.
    func testEveryStartIsADifferentInstanceEvenWithTheSamePid() throws {
        let a = try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: [], environment: Environment([:])).instanceId
        let b = try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: [], environment: Environment([:])).instanceId
        XCTAssertTrue(a.hasPrefix("\(ProcessInfo.processInfo.hostName)-\(getpid())-"), a)
        XCTAssertNotEqual(a, b)
    }

    func testTheMemoryTrimIntervalIsOffOrAtLeastASecond() throws {
        XCTAssertEqual(try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: [], environment: Environment([:])).memoryTrimInterval, 10)
        XCTAssertEqual(try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: [],
                                                environment: Environment(["MEMORY_TRIM_INTERVAL_SECONDS": "0"])).memoryTrimInterval, 0)
        XCTAssertEqual(try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: [],
                                                environment: Environment(["MEMORY_TRIM_INTERVAL_SECONDS": "30"])).memoryTrimInterval, 30)
        for bad in ["0.001", "0.5", "-1", "ten", "3601"] {
            XCTAssertThrowsError(try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: [],
                                                          environment: Environment(["MEMORY_TRIM_INTERVAL_SECONDS": bad])), bad) {
                XCTAssertTrue("\($0)".contains("MEMORY_TRIM_INTERVAL_SECONDS"), "\($0)")
            }
        }
    }

    func testBadValuesNameTheKey() {
        XCTAssertThrowsError(try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: [], environment: Environment(["PORT": "eighty"]))) {
            XCTAssertTrue("\($0)".contains("PORT"), "\($0)")
        }
        XCTAssertThrowsError(try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: ["--log-level", "loud"], environment: Environment([:]))) {
            XCTAssertTrue("\($0)".contains("--log-level"), "\($0)")
        }
        XCTAssertThrowsError(try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: ["--bogus"], environment: Environment([:]))) {
            XCTAssertTrue("\($0)".contains("--bogus"), "\($0)")
        }
        XCTAssertThrowsError(try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: [], environment: Environment(["LOG_LEVEL": "chatty"]))) {
            XCTAssertTrue("\($0)".contains("LOG_LEVEL"), "\($0)")
        }
    }

    func testExplicitConfigFileMustExist() throws {
        let o = try ServiceOptions.parse(service: "x", defaultPort: 1, arguments: ["--config", "/nonexistent.yml"], environment: Environment([:]))
        XCTAssertThrowsError(try o.resolvedConfigFile())
        let none = try ServiceOptions.parse(service: "no-such-service", defaultPort: 1, arguments: [], environment: Environment([:]))
        XCTAssertNil(try none.resolvedConfigFile())
    }
}
