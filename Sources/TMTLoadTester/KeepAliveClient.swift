import Foundation
import Glibc

/// One persistent HTTP/1.1 connection for the load tester: GET requests one after another on
/// the same socket (keep-alive), responses read by Content-Length. Reconnects when the server
/// closes. Blocking, one per user thread.
final class KeepAliveClient {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let host: String
    let port: UInt16
    let timeout: Double
    private var fd: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var pending: [UInt8] = []
    /// Connections opened (1 + reconnects).
    private(set) var connects = 0

    init(host: String, port: UInt16, timeout: Double) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    deinit { disconnect() }

    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        pending.removeAll(keepingCapacity: true)
    }

    private func connect() throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { throw Failure(description: "cannot resolve \(host)") }
        defer { freeaddrinfo(list) }
        // Every address the name has, in order (localhost may be ::1 first and the server IPv4 only).
        var lastError = "no address"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard s >= 0 else { lastError = "socket: \(String(cString: strerror(errno)))"; continue }
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                fd = s
                connects += 1
                return
            }
            lastError = String(cString: strerror(errno))
            close(s)
        }
        throw Failure(description: "connect \(host):\(port): \(lastError)")
    }

    /// GETs `path`; returns the status code. Throws on a transport failure (the connection is
    /// then dropped; the next call reconnects).
    func get(_ path: String) throws -> Int {
        if fd < 0 { try connect() }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: tmt-load-tester\r\n\r\n".utf8)
        do {
            try sendAll(request)
            return try readResponse()
        } catch {
            disconnect()
            throw error
        }
    }

    private func sendAll(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    private func fill() throws {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if n == 0 { throw Failure(description: "connection closed by the server") }
        guard n > 0 else {
            let e = errno
            throw Failure(description: e == EAGAIN || e == EWOULDBLOCK ? "timed out after \(timeout) s" : "recv: \(String(cString: strerror(e)))")
        }
        pending.append(contentsOf: buffer[0..<n])
    }

    private func readResponse() throws -> Int {
        // Head.
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find(pending, [13, 10, 13, 10])
            if headEnd == nil {
                guard pending.count < 64 * 1024 else { throw Failure(description: "response head over 64 KiB") }
                try fill()
            }
        }
        let head = String(decoding: pending[0..<headEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."), statusLine.count >= 12,
              let status = Int(statusLine.dropFirst(9).prefix(3)) else {
            throw Failure(description: "malformed status line '\(lines.first ?? "")'")
        }
        var length: Int?
        var closeAfter = statusLine.hasPrefix("HTTP/1.0")
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].lowercased(), value = parts[1].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) ?? 0 }
            if name == "transfer-encoding" { throw Failure(description: "chunked responses are not supported by the load tester") }
            if name == "connection", value.lowercased() == "close" { closeAfter = true }
        }
        // No length: 1xx/204/304 have no body; anything else runs until the server closes.
        guard let length else {
            if status == 204 || status == 304 || status < 200 {
                pending.removeFirst(headEnd! + 4)
                return status
            }
            while true {
                do { try fill() } catch let f as Failure where f.description == "connection closed by the server" { break }
            }
            disconnect()
            return status
        }
        let total = headEnd! + 4 + length
        while pending.count < total { try fill() }
        pending.removeFirst(total)
        if closeAfter { disconnect() }
        return status
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }
}
