import Dispatch
import FoundationEssentials
import Glibc
import Synchronization

/// Severity of a log line.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case trace = 0, debug, info, notice, warning, error, critical

    public var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARN"
        case .error: "ERROR"
        case .critical: "CRIT"
        }
    }

    /// Parses `trace|debug|info|notice|warn|warning|error|critical` (any case).
    public init?(name: String) {
        switch name.lowercased() {
        case "trace": self = .trace
        case "debug": self = .debug
        case "info": self = .info
        case "notice": self = .notice
        case "warn", "warning": self = .warning
        case "error": self = .error
        case "critical", "crit": self = .critical
        default: return nil
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Where log lines go. The default writes each line with one `write(2)` to stderr, so lines from
/// several threads never interleave.
public protocol LogSink: Sendable {
    func write(_ line: String)
}

/// Writes to standard error.
public struct StandardErrorSink: LogSink {
    public init() {}
    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(2, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
                off += n
            }
        }
    }
}

/// Collects lines in memory; for tests.
public final class MemoryLogSink: LogSink, @unchecked Sendable {
    private let lines = Locked<[String]>([])
    public init() {}
    public func write(_ line: String) { lines.withLock { $0.append(line) } }
    public var all: [String] { lines.withLock { $0 } }
}

/// One line per event: `2026-11-25T16:43:17.123Z INFO wyckoff-analysis trace=… message key=value`.
///
/// Values are quoted when they contain spaces, quotes or `=`, and control characters are escaped,
/// so a line can always be split back into fields and one event never spans two lines.
public struct Logger: Sendable {
    /// The service name printed on every line.
    public var service: String
    /// Lines below this level are dropped.
    public var level: LogLevel
    /// Fields printed on every line of this logger (e.g. `component=pool`).
    public var metadata: [(String, String)]
    private let sink: any LogSink

    public init(service: String, level: LogLevel = .info, sink: any LogSink = StandardErrorSink()) {
        self.service = service
        self.level = level
        self.sink = sink
        self.metadata = []
    }

    /// A logger that adds `key=value` to every line.
    public func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy.metadata.append((key, value))
        return copy
    }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, traceId: String? = nil,
                    _ fields: KeyValuePairs<String, String> = [:]) {
        guard level >= self.level else { return }
        var line = Logger.timestamp(Date())
        line += " "
        line += level.name
        line += " "
        line += service
        line += " trace="
        line += traceId ?? "-"
        line += " "
        line += Logger.escapeMessage(message())
        for (k, v) in metadata { line += " \(k)=\(Logger.quote(v))" }
        for (k, v) in fields { line += " \(k)=\(Logger.quote(v))" }
        sink.write(line)
    }

    public func trace(_ m: @autoclosure () -> String, traceId: String? = nil, _ f: KeyValuePairs<String, String> = [:]) { log(.trace, m(), traceId: traceId, f) }
    public func debug(_ m: @autoclosure () -> String, traceId: String? = nil, _ f: KeyValuePairs<String, String> = [:]) { log(.debug, m(), traceId: traceId, f) }
    public func info(_ m: @autoclosure () -> String, traceId: String? = nil, _ f: KeyValuePairs<String, String> = [:]) { log(.info, m(), traceId: traceId, f) }
    public func notice(_ m: @autoclosure () -> String, traceId: String? = nil, _ f: KeyValuePairs<String, String> = [:]) { log(.notice, m(), traceId: traceId, f) }
    public func warning(_ m: @autoclosure () -> String, traceId: String? = nil, _ f: KeyValuePairs<String, String> = [:]) { log(.warning, m(), traceId: traceId, f) }
    public func error(_ m: @autoclosure () -> String, traceId: String? = nil, _ f: KeyValuePairs<String, String> = [:]) { log(.error, m(), traceId: traceId, f) }
    public func critical(_ m: @autoclosure () -> String, traceId: String? = nil, _ f: KeyValuePairs<String, String> = [:]) { log(.critical, m(), traceId: traceId, f) }

    static func escapeMessage(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 < 0x20 }) else { return s }
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 { out += String(cFormat: "\\x%02x", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    static func quote(_ s: String) -> String {
        let needs = s.isEmpty || s.utf8.contains { $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\\") }
        guard needs else { return s }
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 { out += String(cFormat: "\\x%02x", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }

    /// RFC 3339 UTC with milliseconds, formatted without Foundation's formatters (hot path).
    public static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var secs = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let ms = Int(millis - Int64(secs) * 1000)
        var tmv = tm()
        gmtime_r(&secs, &tmv)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(pad(tmv.tm_year + 1900, 4))-\(pad(tmv.tm_mon + 1, 2))-\(pad(tmv.tm_mday, 2))T\(pad(tmv.tm_hour, 2)):\(pad(tmv.tm_min, 2)):\(pad(tmv.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }
}
