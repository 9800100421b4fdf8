import TMTBase
import Synchronization
import TMTCore

/// Readiness probe for a dependency that offers no cheap ping through our clients (the Kafka
/// bootstrap servers): a TCP connect with a timeout to each `host:port`, passing when any of them
/// accepts. It proves the broker is listening, not that it is healthy; the consumer's own errors
/// and lag cover the rest.
public enum TCPProbe {
    public static func check(_ hostPorts: String, timeout: Double = 1) throws {
        if let failure = probe(hostPorts, timeout: timeout) { throw TMTError(.connection, "Kafka bootstrap not reachable (\(failure.reason))") }
    }

    /// Why no address of `hostPorts` accepted a connection, nil when one did; `timedOut` when
    /// the last failure was a timeout rather than a refusal.
    static func probe(_ hostPorts: String, timeout: Double) -> (reason: String, timedOut: Bool)? {
        var lastError = "no address given"
        var timedOut = false
        for entry in hostPorts.split(separator: ",") {
            let hp = entry.trimmingWhitespace()
            guard let colon = hp.lastIndex(of: ":"), let port = UInt16(hp[hp.index(after: colon)...]) else {
                lastError = "bad address '\(hp)'"
                continue
            }
            let host = String(hp[..<colon]).trimming(charactersIn: "[]")
            if let error = connect(host: host, port: port, timeout: timeout) {
                lastError = "\(hp): \(error)"
                timedOut = error.hasPrefix("timed out")
            } else {
                return nil
            }
        }
        return (lastError, timedOut)
    }

    /// A probe that tells a busy broker from a gone one. The librdkafka mock broker (native
    /// mode) accepts connections on the same thread that serves every client, so under load a
    /// connect can sit in its full accept queue past the timeout while the broker works fine.
    /// A refused connection fails at once; a timed-out one fails only when no connect succeeded
    /// within `grace` seconds. A success stands for `reuse` seconds without a new connect: every
    /// connect lands in that one thread's accept queue, and readiness is asked often (the
    /// gateway's aggregated `/health` asks every agent's `/ready` on each call), so probing on
    /// every call filled the queue and made answers wait for a SYN retry (1 s).
    public final class Tolerant: Sendable {
        let hostPorts: String
        let timeout: Double
        let grace: Double
        let reuse: Double
        private let lastSuccess = Locked<UInt64?>(nil)

        public init(_ hostPorts: String, timeout: Double = 1, grace: Double = 30, reuse: Double = 5) {
            self.hostPorts = hostPorts
            self.timeout = timeout
            self.grace = grace
            self.reuse = reuse
        }

        public func check() throws {
            if let last = lastSuccess.withLock({ $0 }), Double(Monotonic.nanos() &- last) / 1e9 < reuse { return }
            guard let failure = TCPProbe.probe(hostPorts, timeout: timeout) else {
                lastSuccess.withLock { $0 = Monotonic.nanos() }
                return
            }
            if failure.timedOut, let last = lastSuccess.withLock({ $0 }), Double(Monotonic.nanos() &- last) / 1e9 < grace { return }
            throw TMTError(.connection, "Kafka bootstrap not reachable (\(failure.reason))")
        }
    }

    /// nil when the connection was accepted, else why not.
    private static func connect(host: String, port: UInt16, timeout: Double) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return "cannot resolve \(host)" }
        defer { freeaddrinfo(list) }
        var failure = "connection refused"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else { failure = String(cString: strerror(errno)); continue }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else { failure = "timed out after \(timeout) s"; continue }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err == 0 { return nil }
            failure = String(cString: strerror(err))
        }
        return failure
    }
}
