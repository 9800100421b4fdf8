import Dispatch
import Synchronization
import TMTBase
import TMTMetrics

/// An HTTP/1.1 server on POSIX sockets.
///
/// One accept thread hands each connection to a thread of its own (up to
/// `maxConnections`), which serves that connection's requests one at a time, so handlers may
/// block. The request parser is strict (see `HTTPServerConfiguration` for the limits): malformed,
/// ambiguous or oversized requests get a JSON error with `Connection: close`, and
/// `Transfer-Encoding` is refused, which shuts the door on request smuggling.
///
/// Metrics (on the registry given to `init`): `tmt_http_requests_total{method,route,status}`,
/// `tmt_http_request_duration_seconds{method,route}` (route = the pattern, so cardinality stays
/// bounded) and `tmt_http_connections_active`.
///
/// ```swift
/// var router = HTTPRouter()
/// router.get("/health") { _ in .text("ok") }
/// let server = HTTPServer(configuration: .init(host: "0.0.0.0", port: 8001), router: router)
/// try server.start()
/// // … on SIGTERM:
/// server.shutdown()
/// ```
public final class HTTPServer: Sendable {
    private enum State {
        case idle
        case running(context: HTTPServerContext, port: Int, acceptDone: DispatchSemaphore)
        case stopping
        case stopped
    }

    /// The configuration the server was created with.
    public let configuration: HTTPServerConfiguration
    private let router: HTTPRouter
    private let registry: MetricsRegistry
    private let logger: Logger
    private let state = Locked<State>(.idle)

    /// A server for `router`; nothing happens until `start()`.
    /// - Parameters:
    ///   - metrics: where request and connection metrics are registered; default `MetricsRegistry.shared`.
    ///   - logger: receives handler failures and connection-level problems.
    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), router: HTTPRouter,
                metrics: MetricsRegistry = .shared, logger: Logger = Logger(service: "http")) {
        self.configuration = configuration
        self.router = router
        self.registry = metrics
        self.logger = logger.with("component", configuration.name)
    }

    deinit {
        shutdown(timeout: 0)
    }

    /// The bound port (useful with port 0); 0 when not running.
    public var port: Int {
        state.withLock { if case .running(_, let port, _) = $0 { return port }; return 0 }
    }

    /// Connections currently open.
    public var activeConnections: Int {
        state.withLock { if case .running(let ctx, _, _) = $0 { return ctx.openConnections }; return 0 }
    }

    /// Validates the configuration, binds and starts accepting. Throws `TMTError(.configuration)`
    /// for an invalid configuration, `TMTError(.connection)` if the address cannot be bound, and
    /// `TMTError(.closed)` if the server was started before.
    public func start() throws {
        try configuration.validate()
        let metrics = HTTPServerMetrics(registry: registry)
        try state.withLock { state in
            guard case .idle = state else { throw TMTError(.closed, "HTTP server \(configuration.name) was already started") }
            let context = try HTTPServerContext(configuration: configuration, router: router, metrics: metrics, logger: logger)
            let (fd, port) = try Socket.listen(host: configuration.host, port: configuration.port,
                                               backlog: Int32(clamping: configuration.listenBacklog))
            let acceptDone = DispatchSemaphore(value: 0)
            TMTThread.detach(name: "\(configuration.name)-accept") {
                Self.acceptLoop(listenFD: fd, context: context)
                acceptDone.signal()
            }
            state = .running(context: context, port: port, acceptDone: acceptDone)
            logger.info("listening", ["address": "\(configuration.host):\(port)"])
        }
    }

    /// Stops the server: stops accepting, closes idle keep-alive connections at once, lets requests
    /// and streams in progress finish (their responses carry `Connection: close`; stream writers
    /// report the shutdown), and after `timeout` seconds (default
    /// `configuration.shutdownTimeout`) forces the remaining connections closed. Blocks until done;
    /// calling it again, or on a server never started, does nothing.
    public func shutdown(timeout: Double? = nil) {
        let taken: (HTTPServerContext, DispatchSemaphore)? = state.withLock { state in
            switch state {
            case .running(let context, _, let acceptDone):
                state = .stopping
                return (context, acceptDone)
            case .idle:
                state = .stopped
                return nil
            case .stopping, .stopped:
                return nil
            }
        }
        guard let (context, acceptDone) = taken else { return }
        context.beginShutdown()
        acceptDone.wait()
        let grace = max(timeout ?? configuration.shutdownTimeout, 0)
        if !Self.waitForConnections(context, seconds: grace) {
            logger.warning("forcing connections closed after shutdown timeout",
                           ["open": String(context.openConnections), "timeout_s": String(grace)])
            context.forceCloseAll()
            _ = Self.waitForConnections(context, seconds: 2)
        }
        state.withLock { $0 = .stopped }
        logger.info("stopped")
    }

    private static func waitForConnections(_ context: HTTPServerContext, seconds: Double) -> Bool {
        let deadline = Monotonic.nanos() &+ UInt64(seconds * 1e9)
        while context.openConnections > 0 {
            if Monotonic.nanos() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    private static let unavailableResponse: [UInt8] = {
        let body = HTTPJSON.errorBody(code: "unavailable", message: "too many open connections; retry later")
        return Array("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
    }()

    private static func acceptLoop(listenFD: Int32, context: HTTPServerContext) {
        defer { close(listenFD) }
        let config = context.configuration
        while !context.isShuttingDown {
            guard case .readable = Socket.waitReadable(listenFD, wakeFD: context.wakeRead, timeoutMillis: -1) else { continue }
            guard let (fd, peer) = Socket.accept(listenFD) else {
                if errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS {
                    // Out of descriptors: back off instead of spinning on a listen queue we
                    // cannot drain.
                    context.logger.error("accept failed", ["error": Socket.errorText(errno)])
                    usleep(50_000)
                }
                continue
            }
            guard context.admit(fd) else {
                _ = unavailableResponse.withUnsafeBytes {
                    send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                }
                _ = Glibc.shutdown(fd, Int32(SHUT_WR))
                close(fd)
                context.metrics.requests.labels("OTHER", "unmatched", "503").inc()
                continue
            }
            Socket.configureConnection(fd, sendTimeout: config.writeTimeout)
            context.metrics.connections.inc()
            let started = TMTThread.detach(name: "\(config.name)-conn", stackSize: config.threadStackSize) {
                let ending = HTTPConnection(fd: fd, peer: peer, context: context).run()
                if case .linger = ending { Socket.linger(fd) }
                context.release(fd)
                context.metrics.connections.dec()
            }
            if !started {
                // No thread for it (a pids or memory limit): answer 503 and close, as when full.
                _ = unavailableResponse.withUnsafeBytes {
                    send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                }
                context.release(fd)
                context.metrics.connections.dec()
                context.metrics.requests.labels("OTHER", "unmatched", "503").inc()
                context.logger.error("no thread for a connection", ["error": Socket.errorText(errno)])
                usleep(10_000)
            }
        }
    }
}
