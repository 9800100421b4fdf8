import XCTest
@testable import TMTBase

final class LoggerTests: XCTestCase {
    func testOneLinePerEventWithLevelServiceAndTrace() {
        let sink = MemoryLogSink()
        let log = Logger(service: "aria-risk", level: .info, sink: sink).with("component", "sizing")
        log.debug("dropped")
        log.info("order sized\nsecond line", traceId: "t-123", ["account": "acc 1", "lots": "1.5", "quote": "say \"hi\""])
        XCTAssertEqual(sink.all.count, 1)
        let line = sink.all[0]
        XCTAssertFalse(line.contains("\n"))
        XCTAssertTrue(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO aria-risk trace=t-123 order sized\\nsecond line component=sizing account="acc 1" lots=1.5 quote="say \\"hi\\""$"#,
                                 options: .regularExpression) != nil, line)
    }

    func testTimestampFormat() {
        XCTAssertEqual(Logger.timestamp(Date(timeIntervalSince1970: 1_795_625_251.580)), "2026-11-25T16:47:31.580Z")
        XCTAssertEqual(Logger.timestamp(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000Z")
    }

    func testLevelNames() {
        XCTAssertEqual(LogLevel(name: "WARN"), .warning)
        XCTAssertEqual(LogLevel(name: "debug"), .debug)
        XCTAssertNil(LogLevel(name: "loud"))
    }
}
