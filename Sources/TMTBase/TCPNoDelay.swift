import Dispatch
import FoundationEssentials
import Glibc

/// Sets `TCP_NODELAY` on every TCP socket this process has open.
///
/// For code that owns sockets it cannot reach otherwise: the dev broker's mock cluster
/// (librdkafka's) accepts its connections internally and leaves Nagle's algorithm on, so a burst
/// of small responses on one connection (an idempotent producer gets one ProduceResponse per
/// partition) waits ~40 ms for the client's delayed ACK. Real Kafka brokers set `TCP_NODELAY` on
/// every connection; the dev broker applies it with `TCPNoDelay.applyToOpenSockets()` every few
/// milliseconds from its own thread (setting a socket option from another thread is safe).
public enum TCPNoDelay {
    /// Walks `/proc/self/fd` and sets `TCP_NODELAY` on each IPv4/IPv6 stream socket that does not
    /// have it yet. Returns how many sockets it changed.
    @discardableResult
    public static func applyToOpenSockets() -> Int {
        var seen = Set<UInt64>()
        return applyToOpenSockets(seen: &seen)
    }

    /// As `applyToOpenSockets()`, for a caller that repeats it: descriptors whose file (inode)
    /// is in `seen` were handled on an earlier pass and cost one `fstat` instead of four calls;
    /// the inodes handled now are added, those no longer open are dropped (socket inodes come
    /// from a counter, so a new connection does not reuse a remembered one).
    @discardableResult
    public static func applyToOpenSockets(seen: inout Set<UInt64>) -> Int {
        guard let dir = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(dir) }
        let own = dirfd(dir)
        var changed = 0
        var open = Set<UInt64>()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let fd = Int32(name), fd != own else { continue }
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK else { continue }
            let inode = UInt64(st.st_ino)
            open.insert(inode)
            if seen.contains(inode) { continue }
            if set(fd) { changed += 1 }
            seen.insert(inode)
        }
        seen.formIntersection(open)
        return changed
    }

    /// Sets `TCP_NODELAY` on `fd` when it is a TCP socket without it. Returns whether it did.
    @discardableResult
    public static func set(_ fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK else { return false }
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &size) == 0, value == AF_INET || value == AF_INET6 else { return false }
        size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &size) == 0, value == Int32(SOCK_STREAM.rawValue) else { return false }
        size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &size) == 0, value == 0 else { return false }
        var on: Int32 = 1
        return setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) == 0
    }
}
