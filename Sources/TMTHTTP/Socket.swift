import Glibc
import TMTBase

/// The POSIX socket calls TMTHTTP makes. All C interop of the module lives here so the rest
/// of it handles plain integers and buffers.
enum Socket {
    /// `POLLRDHUP` (peer shut down its writing half); Glibc only exports it under _GNU_SOURCE.
    static let pollRDHUP: Int16 = 0x2000

    enum Wait {
        case readable
        case timedOut
        /// The wake descriptor became readable: the server is shutting down.
        case woken
    }

    /// A bound, listening TCP socket for `host` (a literal address or a name) and `port`
    /// (0 = ephemeral), and the port actually bound.
    static func listen(host: String, port: Int, backlog: Int32) throws -> (fd: Int32, port: Int) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &res)
        guard rc == 0, let first = res else {
            throw TMTError(.configuration, "cannot resolve listen address \(host)", detail: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        var lastErrno: Int32 = 0
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if fd < 0 { lastErrno = errno; continue }
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0, Glibc.listen(fd, backlog) == 0 {
                return (fd, localPort(fd))
            }
            lastErrno = errno
            close(fd)
        }
        throw TMTError(.connection, "cannot listen on \(host):\(port): \(errorText(lastErrno))")
    }

    /// Accepts one connection; returns the descriptor and the peer as `ip:port`, or nil when
    /// nothing was pending or the peer went away before being accepted.
    static func accept(_ listenFD: Int32) -> (fd: Int32, peer: String)? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listenFD, $0, &len) }
        }
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return (fd, describe(&storage))
    }

    /// Per-connection options: no Nagle delay (responses go out in one write and must not wait
    /// for the client's delayed ACK) and a bound on how long one `send` may block on a client
    /// that stopped reading.
    static func configureConnection(_ fd: Int32, sendTimeout: Double) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(seconds: sendTimeout)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends every byte, never raising SIGPIPE. False when the peer is gone or the send timeout
    /// expired.
    static func sendAll(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int, more: Bool = false) -> Bool {
        var off = 0
        let flags = Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0)
        while off < count {
            let n = send(fd, base + off, count - off, flags)
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8], more: Bool = false) -> Bool {
        bytes.withUnsafeBytes { sendAll(fd, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, $0.count, more: more) }
    }

    /// One `recv`: bytes read, 0 at end of stream, -1 on error (EINTR retried).
    static func receive(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let n = recv(fd, base, count, 0)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Waits until `fd` is readable, `wakeFD` (if ≥ 0) is readable, or `timeoutMillis` passes.
    static func waitReadable(_ fd: Int32, wakeFD: Int32, timeoutMillis: Int32) -> Wait {
        withUnsafeTemporaryAllocation(of: pollfd.self, capacity: 2) { p in
            p[0] = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            p[1] = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
            let n = wakeFD >= 0 ? 2 : 1
            while true {
                let rc = poll(p.baseAddress, nfds_t(n), timeoutMillis)
                if rc < 0 && errno == EINTR { continue }
                if rc == 0 { return .timedOut }
                // An error or hang-up on the connection counts as readable: the recv reports it.
                if rc < 0 || p[0].revents != 0 { return .readable }
                return .woken
            }
        }
    }

    /// Whether the peer has closed or reset the connection (without consuming pending data),
    /// waiting up to `timeoutMillis` for that to happen; returns early if `wakeFD` is readable.
    static func waitPeerClosed(_ fd: Int32, wakeFD: Int32, timeoutMillis: Int32) -> (closed: Bool, woken: Bool) {
        withUnsafeTemporaryAllocation(of: pollfd.self, capacity: 2) { p in
            p[0] = pollfd(fd: fd, events: pollRDHUP, revents: 0)
            p[1] = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
            let n = wakeFD >= 0 ? 2 : 1
            while true {
                let rc = poll(p.baseAddress, nfds_t(n), timeoutMillis)
                if rc < 0 && errno == EINTR { continue }
                if rc <= 0 { return (false, false) }
                let closed = p[0].revents & (pollRDHUP | Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)) != 0
                return (closed, n == 2 && p[1].revents != 0)
            }
        }
    }

    /// Shuts down the writing half and reads (discarding) until the peer closes or a short
    /// bound passes; the caller then closes. Closing with unread input makes Linux send a reset
    /// that can destroy the error response before the client has read it; this avoids that.
    static func linger(_ fd: Int32, maxSeconds: Double = 2, maxBytes: Int = 1 << 20) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        let deadline = Monotonic.nanos() &+ UInt64(maxSeconds * 1e9)
        var discarded = 0
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buf in
            while discarded < maxBytes {
                let now = Monotonic.nanos()
                guard now < deadline else { break }
                let ms = Int32(min(Double(deadline - now) / 1e6 + 1, 2_000_000))
                guard case .readable = waitReadable(fd, wakeFD: -1, timeoutMillis: ms) else { break }
                let n = receive(fd, buf.baseAddress!, buf.count)
                if n <= 0 { break }
                discarded += n
            }
        }
    }

    /// A pipe whose read end is used to wake every blocked `poll` at once: one byte is written
    /// and never read, so it stays readable.
    static func makeWakePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw TMTError(.io, "cannot create a pipe: \(errorText(errno))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    static func wake(_ writeFD: Int32) {
        var b: UInt8 = 1
        _ = write(writeFD, &b, 1)
    }

    /// Connects to `host:port` within `timeout` seconds (the name lookup is not bounded by it).
    static func connect(host: String, port: Int, timeout: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &res)
        guard rc == 0, let first = res else {
            throw TMTError(.connection, "cannot resolve \(host)", detail: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        let deadline = Monotonic.nanos() &+ UInt64(max(timeout, 0) * 1e9)
        var lastError = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if fd < 0 { lastError = errorText(errno); continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var ok = Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0
            if !ok && errno == EINPROGRESS {
                let now = Monotonic.nanos()
                let ms = now < deadline ? Int32(min(Double(deadline - now) / 1e6 + 1, 2_000_000)) : 0
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                var rc: Int32
                repeat { rc = poll(&p, 1, ms) } while rc < 0 && errno == EINTR
                if rc == 1 {
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                    ok = err == 0
                    if !ok { lastError = errorText(err) }
                } else {
                    close(fd)
                    throw TMTError(.timeout, "connecting to \(host):\(port) timed out after \(timeout) s")
                }
            } else if !ok {
                lastError = errorText(errno)
            }
            if ok {
                _ = fcntl(fd, F_SETFL, flags)
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            close(fd)
        }
        throw TMTError(.connection, "cannot connect to \(host):\(port): \(lastError)")
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    private static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return addressAndPort(&storage).port
    }

    private static func describe(_ storage: inout sockaddr_storage) -> String {
        let (ip, port) = addressAndPort(&storage)
        return storage.ss_family == sa_family_t(AF_INET6) ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    private static func addressAndPort(_ storage: inout sockaddr_storage) -> (ip: String, port: Int) {
        withUnsafeMutablePointer(to: &storage) { p -> (String, Int) in
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            switch Int32(p.pointee.ss_family) {
            case AF_INET:
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    _ = inet_ntop(AF_INET, &sin.pointee.sin_addr, &text, socklen_t(text.count))
                    return (String(cBuffer: text), Int(UInt16(bigEndian: sin.pointee.sin_port)))
                }
            case AF_INET6:
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    _ = inet_ntop(AF_INET6, &sin6.pointee.sin6_addr, &text, socklen_t(text.count))
                    return (String(cBuffer: text), Int(UInt16(bigEndian: sin6.pointee.sin6_port)))
                }
            default:
                return ("unknown", 0)
            }
        }
    }
}

extension timeval {
    init(seconds: Double) {
        let s = max(seconds, 0)
        self.init(tv_sec: Int(s), tv_usec: Int((s - s.rounded(.down)) * 1e6))
    }
}
