import Foundation
import TMTCore

/// A minimal RFC 6455 client over a plain TCP socket, enough for the DevTools protocol on
/// 127.0.0.1: the opening handshake, masked text frames out, text/continuation frames in (any
/// length), pings answered, close honoured. Blocking, with deadlines on every read.
final class WebSocketClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    /// Connects to `ws://host:port/path` and completes the handshake within `timeout` seconds.
    init(url: String, timeout: Double) throws {
        guard let u = URL(string: url), u.scheme == "ws", let host = u.host, let port = u.port else {
            throw Failure(description: "unsupported WebSocket URL \(url)")
        }
        let path = u.path.isEmpty ? "/" : u.path
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr) == 1 else {
            close()
            throw Failure(description: "only IPv4 literal hosts are supported, got \(host)")
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close()
            throw Failure(description: "cannot connect to \(host):\(port) (errno \(errno))")
        }
        var key = [UInt8](repeating: 0, count: 16)
        for i in key.indices { key[i] = UInt8.random(in: 0...255) }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(Data(key).base64EncodedString())\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try sendAll(Array(request.utf8))
        let deadline = Date().addingTimeInterval(timeout)
        let terminator: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = buffer.firstRange(of: terminator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<end.upperBound)
                guard head.hasPrefix("HTTP/1.1 101") else {
                    close()
                    throw Failure(description: "WebSocket handshake refused: \(head.prefix(300))")
                }
                return
            }
            guard try fill(deadline: deadline) else {
                close()
                throw Failure(description: "WebSocket handshake timed out")
            }
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// Sends one masked text frame.
    func sendText(_ text: String) throws {
        try sendFrame(opcode: 0x1, payload: Array(text.utf8))
    }

    /// The next complete text message, or nil when `deadline` passes first.
    func receiveText(deadline: Date) throws -> String? {
        var message: [UInt8] = []
        while true {
            guard let (fin, opcode, payload) = try readFrame(deadline: deadline) else { return nil }
            switch opcode {
            case 0x9:
                try sendFrame(opcode: 0xA, payload: payload)
            case 0xA:
                continue
            case 0x8:
                throw Failure(description: "the WebSocket was closed by the peer")
            case 0x0, 0x1, 0x2:
                message += payload
                if fin { return String(decoding: message, as: UTF8.self) }
            default:
                throw Failure(description: "unexpected WebSocket opcode \(opcode)")
            }
        }
    }

    // MARK: Frames

    private func sendFrame(opcode: UInt8, payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        let n = payload.count
        if n < 126 {
            frame.append(0x80 | UInt8(n))
        } else if n <= 0xFFFF {
            frame.append(0x80 | 126)
            frame += [UInt8(n >> 8), UInt8(n & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((UInt64(n) >> UInt64(shift)) & 0xFF)) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame.reserveCapacity(frame.count + n)
        for (i, b) in payload.enumerated() { frame.append(b ^ mask[i & 3]) }
        try sendAll(frame)
    }

    private func readFrame(deadline: Date) throws -> (Bool, UInt8, [UInt8])? {
        guard try need(2, deadline: deadline) else { return nil }
        let fin = buffer[0] & 0x80 != 0
        let opcode = buffer[0] & 0x0F
        let masked = buffer[1] & 0x80 != 0
        var length = UInt64(buffer[1] & 0x7F)
        var header = 2
        if length == 126 {
            guard try need(4, deadline: deadline) else { return nil }
            length = UInt64(buffer[2]) << 8 | UInt64(buffer[3])
            header = 4
        } else if length == 127 {
            guard try need(10, deadline: deadline) else { return nil }
            length = 0
            for i in 2..<10 { length = length << 8 | UInt64(buffer[i]) }
            header = 10
        }
        guard length < 256 * 1024 * 1024 else { throw Failure(description: "WebSocket frame of \(length) bytes is too large") }
        let maskBytes = masked ? 4 : 0
        let total = header + maskBytes + Int(length)
        guard try need(total, deadline: deadline) else { return nil }
        var payload = Array(buffer[(header + maskBytes)..<total])
        if masked {
            let mask = Array(buffer[header..<(header + 4)])
            for i in payload.indices { payload[i] ^= mask[i & 3] }
        }
        buffer.removeSubrange(..<total)
        return (fin, opcode, payload)
    }

    // MARK: Socket

    /// Reads until `count` bytes are buffered; false at the deadline.
    private func need(_ count: Int, deadline: Date) throws -> Bool {
        while buffer.count < count {
            guard try fill(deadline: deadline) else { return false }
        }
        return true
    }

    /// One read of whatever is available; false at the deadline.
    private func fill(deadline: Date) throws -> Bool {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&p, 1, Int32(min(remaining * 1000 + 1, 60_000)))
        if ready < 0 && errno == EINTR { return true }
        guard ready > 0 else { return deadline.timeIntervalSinceNow > 0 }
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: "the WebSocket connection closed") }
        buffer += chunk[..<n]
        return true
    }

    private func sendAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "WebSocket send failed (errno \(errno))") }
            offset += n
        }
    }
}
