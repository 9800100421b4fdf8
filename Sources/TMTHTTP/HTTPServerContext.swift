import Glibc
import Synchronization
import TMTBase
import TMTMetrics

/// What a running server shares with its accept and connection threads. Owns the wake pipe, so
/// its descriptors stay valid until the last thread using them has let go.
final class HTTPServerContext: Sendable {
    let configuration: HTTPServerConfiguration
    let router: HTTPRouter
    let metrics: HTTPServerMetrics
    let logger: Logger
    let wakeRead: Int32
    let wakeWrite: Int32
    private let shutdownFlag = Atomic<Bool>(false)
    /// Descriptors of open connections. A connection is closed while holding this lock, so a
    /// forced shutdown never touches a descriptor number that has been reused.
    let connections = Locked<Set<Int32>>([])

    init(configuration: HTTPServerConfiguration, router: HTTPRouter, metrics: HTTPServerMetrics, logger: Logger) throws {
        self.configuration = configuration
        self.router = router
        self.metrics = metrics
        self.logger = logger
        (wakeRead, wakeWrite) = try Socket.makeWakePipe()
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    var isShuttingDown: Bool { shutdownFlag.load(ordering: .acquiring) }

    /// Flags the shutdown and wakes every thread blocked waiting for input.
    func beginShutdown() {
        shutdownFlag.store(true, ordering: .releasing)
        Socket.wake(wakeWrite)
    }

    /// Registers an accepted connection unless the cap is reached.
    func admit(_ fd: Int32) -> Bool {
        connections.withLock { set in
            guard set.count < configuration.maxConnections else { return false }
            set.insert(fd)
            return true
        }
    }

    func release(_ fd: Int32) {
        connections.withLock { set in
            set.remove(fd)
            close(fd)
        }
    }

    var openConnections: Int { connections.withLock { $0.count } }

    /// Shuts down both directions of every open connection, which makes their threads' blocked
    /// calls return so they exit.
    func forceCloseAll() {
        connections.withLock { set in
            for fd in set { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }
}
