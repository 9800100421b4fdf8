import Foundation

/// The verdicts of one tool run: a human summary on stdout, JUnit XML for CI, JSON for scripts.
public final class ToolReport: @unchecked Sendable {
    public enum Status: String, Codable, Sendable { case passed, failed, skipped }

    public struct Case: Codable, Sendable {
        public var suite: String
        public var name: String
        public var status: Status
        public var seconds: Double
        /// Why it failed or was skipped; what it saw when it passed.
        public var message: String
    }

    public let tool: String
    public let startedAt = Date()
    private let lock = NSLock()
    private var items: [Case] = []

    public init(tool: String) { self.tool = tool }

    public var cases: [Case] { lock.withLock { items } }
    public var failed: Int { cases.filter { $0.status == .failed }.count }

    /// Runs `body` as one case: it passes with the message it returns, fails with the error it
    /// throws (a `ToolReport.Skip` skips it). Prints one progress line as it ends.
    @discardableResult
    public func run(_ suite: String, _ name: String, _ body: () throws -> String) -> Bool {
        let started = Date()
        var status = Status.passed
        var message: String
        do { message = try body() } catch let skip as Skip {
            status = .skipped
            message = skip.reason
        } catch {
            status = .failed
            message = "\(error)"
        }
        let c = Case(suite: suite, name: name, status: status, seconds: Date().timeIntervalSince(started), message: message)
        lock.withLock { items.append(c) }
        let mark = status == .passed ? "PASS" : status == .failed ? "FAIL" : "SKIP"
        print(String(format: "%@  %@ / %@ (%.1f s): %@", mark, suite, name, c.seconds, message))
        fflush(nil)
        return status == .passed
    }

    /// A case that could not run here, with the reason.
    public struct Skip: Error { public var reason: String; public init(_ reason: String) { self.reason = reason } }

    /// The summary line.
    public var summary: String {
        let all = cases
        let passed = all.filter { $0.status == .passed }.count, skipped = all.filter { $0.status == .skipped }.count
        return "\(tool): \(all.count) checks, \(passed) passed, \(all.count - passed - skipped) failed, \(skipped) skipped "
            + String(format: "in %.1f s", Date().timeIntervalSince(startedAt))
    }

    /// JUnit XML: one `testsuite` per suite name.
    public func junitXML() -> String {
        let all = cases
        var suites: [String] = []
        for c in all where !suites.contains(c.suite) { suites.append(c.suite) }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(Self.xml(tool))\" tests=\"\(all.count)\" failures=\"\(failed)\">\n"
        for s in suites {
            let mine = all.filter { $0.suite == s }
            out += "  <testsuite name=\"\(Self.xml(s))\" tests=\"\(mine.count)\" failures=\"\(mine.filter { $0.status == .failed }.count)\" "
                + "skipped=\"\(mine.filter { $0.status == .skipped }.count)\" time=\"\(String(format: "%.3f", mine.reduce(0) { $0 + $1.seconds }))\">\n"
            for c in mine {
                out += "    <testcase classname=\"\(Self.xml(tool + "." + s))\" name=\"\(Self.xml(c.name))\" time=\"\(String(format: "%.3f", c.seconds))\""
                switch c.status {
                case .passed: out += ">\n      <system-out>\(Self.xml(c.message))</system-out>\n    </testcase>\n"
                case .failed: out += ">\n      <failure message=\"\(Self.xml(String(c.message.prefix(500))))\">\(Self.xml(c.message))</failure>\n    </testcase>\n"
                case .skipped: out += ">\n      <skipped message=\"\(Self.xml(c.message))\"/>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    /// JSON: the tool, when, the counts and every case; `extra` adds top-level fields.
    public func json(extra: [String: Any] = [:]) throws -> Data {
        let all = cases
        var object: [String: Any] = [
            "tool": tool,
            "startedAt": ISO8601DateFormatter().string(from: startedAt),
            "seconds": Date().timeIntervalSince(startedAt),
            "passed": all.filter { $0.status == .passed }.count,
            "failed": failed,
            "skipped": all.filter { $0.status == .skipped }.count,
            "cases": all.map { ["suite": $0.suite, "name": $0.name, "status": $0.status.rawValue, "seconds": $0.seconds, "message": $0.message] },
        ]
        for (k, v) in extra { object[k] = v }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// Writes `<dir>/<name>.xml` and `<dir>/<name>.json`; returns their paths.
    public func write(to dir: String, name: String, extra: [String: Any] = [:]) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let xmlPath = "\(dir)/\(name).xml", jsonPath = "\(dir)/\(name).json"
        try Data(junitXML().utf8).write(to: URL(fileURLWithPath: xmlPath))
        try json(extra: extra).write(to: URL(fileURLWithPath: jsonPath))
        return [xmlPath, jsonPath]
    }

    static func xml(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(ch)
            default:
                // XML 1.0 forbids most control characters.
                if ch.value < 0x20 { out += "?" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}

/// A failed check, with what was expected and what was seen.
public struct CheckFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Throws a `CheckFailure` with `message` unless `condition` holds.
public func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailure(message()) }
}
