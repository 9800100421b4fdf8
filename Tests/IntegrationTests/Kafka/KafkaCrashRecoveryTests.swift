import Foundation
import Synchronization
import TMTCore
import XCTest

/// At-least-once across a real process crash: a consumer process is SIGKILLed (no close, no
/// commit, no leave-group) and another member of its group must get exactly what it had not
/// committed. The consumer process is this test bundle re-run with `TMT_KAFKA_CRASH_CHILD` set,
/// which makes `testConsumerKilledWithSIGKILL…` act as the child (consume, report on stdout,
/// then hang until killed) instead of the parent.
final class KafkaCrashRecoveryTests: XCTestCase {
    private static let childVariable = "TMT_KAFKA_CRASH_CHILD"

    func testConsumerKilledWithSIGKILLBeforeCommittingIsRedeliveredAndCommittedOneIsNot() throws {
        if let mode = ProcessInfo.processInfo.environment[Self.childVariable] {
            try runChild(mode: mode) // never returns
        }
        let config = try KafkaTestSupport.configuration()
        let topic = KafkaTestSupport.uniqueTopic("crash")
        let group = KafkaTestSupport.uniqueGroup("crash")
        let producer = try KafkaProducer(configuration: config, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        // One key, so all three records share a partition and order.
        for i in 1...3 { _ = try producer.sendAndWait(topic: topic, key: Array("k".utf8), value: Array("m\(i)".utf8), timeout: 10) }
        producer.close()

        // Child 1 handles m1 (returns, so m1 gets committed), then blocks inside m2's handler;
        // it says so on stdout, and we SIGKILL it there.
        let child = try spawnChild(mode: "commit-first-then-hang", topic: topic, group: group, bootstrap: config.bootstrapServers)
        let lines = try child.readLines(until: { $0.contains("holding m2") }, timeout: 60)
        XCTAssertTrue(lines.contains("handled m1"), "child output: \(lines)")
        XCTAssertTrue(lines.contains("committed"), "child output: \(lines)")
        kill(child.process.processIdentifier, SIGKILL)
        child.process.waitUntilExit()
        XCTAssertEqual(child.process.terminationReason, .uncaughtSignal)

        // A new member of the same group: m1 was committed, so it starts at m2 (redelivered).
        let inbox = Inbox()
        let survivor = try KafkaConsumer(configuration: config, groupId: group, topics: [topic],
                                         options: KafkaTestSupport.fastOptions, metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        try survivor.start { inbox.append($0) }
        defer { survivor.stop() }
        // The dead member's session must expire first (session.timeout.ms = 6 s).
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: 45) { inbox.count >= 2 }, "got \(inbox.messages.map(\.valueString))")
        usleep(500_000)
        XCTAssertEqual(inbox.messages.map(\.valueString), ["m2", "m3"])
    }

    // MARK: child side

    private func runChild(mode: String) throws -> Never {
        let env = ProcessInfo.processInfo.environment
        guard mode == "commit-first-then-hang", let topic = env["TMT_KAFKA_CRASH_TOPIC"], let group = env["TMT_KAFKA_CRASH_GROUP"],
              let bootstrap = env["TMT_KAFKA_CRASH_BOOTSTRAP"] else {
            print("bad child environment")
            exit(3)
        }
        @Sendable func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
        let config = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "crash-child")
        var options = KafkaTestSupport.fastOptions
        options.commitInterval = 0.05
        let consumer = try KafkaConsumer(configuration: config, groupId: group, topics: [topic], options: options,
                                         metrics: MetricsRegistry(), logger: KafkaTestSupport.logger)
        let handledFirst = DispatchSemaphore(value: 0)
        try consumer.start { message in
            if message.valueString == "m1" {
                say("handled m1")
                handledFirst.signal()
                return
            }
            // Wait until m1's offset is surely committed, then hang holding m2.
            Thread.sleep(forTimeInterval: 1)
            say("committed")
            say("holding \(message.valueString)")
            while true { sleep(60) }
        }
        handledFirst.wait()
        while true { sleep(60) }
    }

    private struct Child {
        let process: Process
        let output: Pipe

        func readLines(until done: ([String]) -> Bool, timeout: Double) throws -> [String] {
            var buffer = ""
            let deadline = Date().addingTimeInterval(timeout)
            let fd = output.fileHandleForReading.fileDescriptor
            var lines: [String] = []
            while Date() < deadline {
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 200) > 0 else { continue }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { break }
                buffer += String(decoding: chunk[0..<n], as: UTF8.self)
                lines = buffer.split(separator: "\n").map(String.init)
                if done(lines) { return lines }
            }
            process.terminate()
            throw TestServices.NotRunning(description: "child did not report in time; output so far: \(buffer)")
        }
    }

    private func spawnChild(mode: String, topic: String, group: String, bootstrap: String) throws -> Child {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        p.arguments = ["IntegrationTests.KafkaCrashRecoveryTests/testConsumerKilledWithSIGKILLBeforeCommittingIsRedeliveredAndCommittedOneIsNot"]
        var env = ProcessInfo.processInfo.environment
        env[Self.childVariable] = mode
        env["TMT_KAFKA_CRASH_TOPIC"] = topic
        env["TMT_KAFKA_CRASH_GROUP"] = group
        env["TMT_KAFKA_CRASH_BOOTSTRAP"] = bootstrap
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        return Child(process: p, output: out)
    }
}
