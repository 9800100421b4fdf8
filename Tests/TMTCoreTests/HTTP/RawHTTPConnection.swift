import Foundation
import Glibc
import TMTCore
import XCTest

/// A response as read off the wire by `RawHTTPConnection`.
struct RawHTTPResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// The head exactly as received, for assertions on header lines.
    var head: String

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    func headerCount(_ name: String) -> Int {
        headers.filter { $0.name.lowercased() == name.lowercased() }.count
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `error.code` of a JSON error body.
    var errorCode: String? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let err = obj["error"] as? [String: Any] else { return nil }
        return err["code"] as? String
    }

    var errorMessage: String? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let err = obj["error"] as? [String: Any] else { return nil }
        return err["message"] as? String
    }
}

/// A client socket to 127.0.0.1 that sends exact bytes and reads raw responses, so tests can
/// send what no well-behaved client library would.
final class RawHTTPConnection {
    let fd: Int32
    private var pending: [UInt8] = []
    private(set) var sawEOF = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TMTError(.connection, "socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw TMTError(.connection, "connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads more bytes into `pending`; false on timeout, EOF or error.
    @discardableResult
    private func fill(deadline: Date) -> Bool {
        guard !sawEOF else { return false }
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let rc = poll(&p, 1, Int32(remaining * 1000) + 1)
        guard rc > 0 else { return false }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 {
            sawEOF = true
            return false
        }
        pending.append(contentsOf: buf[0..<n])
        return true
    }

    /// Reads one complete response (Content-Length, chunked, or until close), or nil if the
    /// connection closed or `timeout` passed first.
    func readResponse(timeout: Double = 5, headRequest: Bool = false) -> RawHTTPResponse? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let (response, used) = Self.parse(pending, eof: sawEOF, headRequest: headRequest) {
                pending.removeFirst(used)
                return response
            }
            if !fill(deadline: deadline) {
                if let (response, used) = Self.parse(pending, eof: true, headRequest: headRequest), sawEOF {
                    pending.removeFirst(used)
                    return response
                }
                return nil
            }
        }
    }

    /// Waits until the server closes the connection (EOF or reset); true if it did within
    /// `timeout`. Bytes that arrive meanwhile are kept for `readResponse`.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !sawEOF {
            if deadline.timeIntervalSinceNow <= 0 { return false }
            fill(deadline: deadline)
        }
        return true
    }

    /// Every byte received until the server closes or `timeout` passes.
    func readUntilClose(timeout: Double) -> [UInt8] {
        _ = waitForClose(timeout: timeout)
        defer { pending.removeAll() }
        return pending
    }

    static func parse(_ b: [UInt8], eof: Bool, headRequest: Bool) -> (RawHTTPResponse, Int)? {
        guard let headEnd = find(b, [0x0D, 0x0A, 0x0D, 0x0A], from: 0) else { return nil }
        let head = String(decoding: b[0..<headEnd], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let c = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<c]), line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)))
        }
        var r = RawHTTPResponse(status: status, headers: headers, body: [], head: head)
        let bodyStart = headEnd + 4
        if headRequest || status == 204 || status == 304 || status < 200 { return (r, bodyStart) }
        if let cl = r.header("Content-Length"), let n = Int(cl) {
            guard b.count - bodyStart >= n else { return nil }
            r.body = Array(b[bodyStart..<(bodyStart + n)])
            return (r, bodyStart + n)
        }
        if r.header("Transfer-Encoding")?.lowercased() == "chunked" {
            var i = bodyStart
            var body: [UInt8] = []
            while true {
                guard let e = find(b, [0x0D, 0x0A], from: i), let size = Int(String(decoding: b[i..<e], as: UTF8.self), radix: 16) else { return nil }
                if size == 0 {
                    guard b.count >= e + 4 else { return nil }
                    r.body = body
                    return (r, e + 4)
                }
                guard b.count >= e + 2 + size + 2 else { return nil }
                body.append(contentsOf: b[(e + 2)..<(e + 2 + size)])
                i = e + 2 + size + 2
            }
        }
        guard eof else { return nil }
        r.body = Array(b[bodyStart...])
        return (r, b.count)
    }

    static func find(_ b: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
        guard b.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= b.count {
            if b[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// Starts an `HTTPServer` on an ephemeral port with its own metrics registry and stops it when
/// the test ends.
final class TestHTTPServer {
    let server: HTTPServer
    let metrics = MetricsRegistry()
    let logSink = MemoryLogSink()

    init(_ router: HTTPRouter, configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        var config = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        config.name = "test-http"
        configure(&config)
        server = HTTPServer(configuration: config, router: router, metrics: metrics,
                            logger: Logger(service: "http-test", level: .debug, sink: logSink))
        try server.start()
    }

    var port: Int { server.port }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    func connect() throws -> RawHTTPConnection { try RawHTTPConnection(port: port) }

    /// Sends `raw` on a fresh connection and returns the first response.
    func exchange(_ raw: String, timeout: Double = 5) throws -> RawHTTPResponse? {
        let c = try connect()
        c.send(raw)
        return c.readResponse(timeout: timeout)
    }

    deinit { server.shutdown(timeout: 2) }
}
