import Synchronization
import TMTBase
import TMTMetrics

/// One connection to Redis, used by one thread at a time (as hiredis requires); take one per
/// thread from `RedisClient.withConnection` rather than sharing it. Concurrent use traps.
///
/// Every call blocks the calling thread, so call it from a dedicated thread or queue, never
/// from Swift's cooperative pool (`RedisClient`'s async `withConnection` does that for you).
///
/// It connects on first use and reconnects after a failure: before sending, a connection that
/// is broken or that the server closed while idle is replaced (up to
/// `configuration.reconnectAttempts` connects with exponential backoff), which is always safe.
/// A failure after sending is handled by the command's `RedisRetry` (see there): reads are
/// re-sent once on a fresh connection, writes only if the caller marked them `.once`.
/// A command timeout throws `TMTError(.timeout, …)` and drops the connection, because its reply
/// could still arrive and be taken for the next command's; the next call reconnects.
public final class RedisConnection: RedisCommandExecutor, @unchecked Sendable {
    // @unchecked: the mutable state below is only touched inside `exclusive`, whose atomic flag
    // guarantees a single thread at a time.
    /// The configuration this connection (re)connects with.
    public let configuration: RedisConfiguration
    private let metrics: RedisMetrics
    private let logger: Logger?
    private let busy = Atomic<Bool>(false)
    private var context: HiredisContext?
    private var hasConnectedBefore = false

    /// A connection that connects on first use. Metrics go to `metrics` (default: the
    /// process-wide registry); reconnects are logged at notice level on `logger`, if given.
    public convenience init(configuration: RedisConfiguration, metrics: MetricsRegistry = .shared, logger: Logger? = nil) {
        self.init(configuration: configuration, metrics: RedisMetrics(registry: metrics), logger: logger)
    }

    init(configuration: RedisConfiguration, metrics: RedisMetrics, logger: Logger?) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// Connects now, if not connected, so start-up can fail fast; otherwise a no-op.
    public func connect() throws {
        do {
            try exclusive { _ = try ready() }
        } catch let e as TMTError {
            metrics.error(e)
            throw e
        }
    }

    /// Whether a usable connection is open (without a network round trip).
    public var isConnected: Bool {
        exclusive { context.map { !$0.isBroken && !$0.isStale } ?? false }
    }

    /// Closes the socket; the next command connects again.
    public func close() {
        exclusive { context = nil }
    }

    /// Sends one command and returns its reply; an error reply throws `TMTError(.redis, …)`.
    public func execute(_ command: RedisCommand) throws -> RedisReply {
        guard !command.arguments.isEmpty else { throw TMTError(.invalidArgument, "a Redis command needs at least its name") }
        let name = command.name
        metrics.command(name)
        let start = Monotonic.nanos()
        defer { metrics.duration.observeSince(start) }
        let reply: RedisReply
        do {
            reply = try exclusive {
                try roundTrip(name, retry: command.retry) { ctx throws(HiredisFailure) in try ctx.command(command.arguments) }
            }
        } catch let e as TMTError {
            metrics.error(e)
            throw e
        }
        if case .error(let message) = reply {
            metrics.error("reply")
            throw RedisReply.serverError(command: name, message)
        }
        return reply
    }

    /// Sends all commands, then reads all replies, in order, in one round trip. Error replies
    /// are returned in their slots, not thrown. The whole pipeline is re-sent after a broken
    /// connection only if every command in it is `retry: .once`.
    public func execute(pipeline commands: [RedisCommand]) throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        guard commands.allSatisfy({ !$0.arguments.isEmpty }) else {
            throw TMTError(.invalidArgument, "a Redis command needs at least its name")
        }
        for c in commands { metrics.command(c.name) }
        let retry: RedisRetry = commands.allSatisfy { $0.retry == .once } ? .once : .never
        let start = Monotonic.nanos()
        defer { metrics.duration.observeSince(start) }
        let replies: [RedisReply]
        do {
            replies = try exclusive {
                try roundTrip("pipeline of \(commands.count)", retry: retry) { ctx throws(HiredisFailure) in
                    for c in commands { try ctx.append(c.arguments) }
                    var out: [RedisReply] = []
                    out.reserveCapacity(commands.count)
                    for _ in commands { out.append(try ctx.readReply()) }
                    return out
                }
            }
        } catch let e as TMTError {
            metrics.error(e)
            throw e
        }
        let errorReplies = replies.reduce(0) { if case .error = $1 { $0 + 1 } else { $0 } }
        if errorReplies > 0 { metrics.error("reply", errorReplies) }
        return replies
    }

    // MARK: - Connection state (call only inside `exclusive`)

    private func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        let (entered, _) = busy.compareExchange(expected: false, desired: true, ordering: .acquiring)
        precondition(entered, "RedisConnection used by two threads at once; take one connection per thread from RedisClient")
        defer { busy.store(false, ordering: .releasing) }
        return try body()
    }

    /// Runs `body` on a usable context; after an I/O failure, re-runs it once on a fresh one if
    /// `retry` allows.
    private func roundTrip<T>(_ what: String, retry: RedisRetry,
                              _ body: (HiredisContext) throws(HiredisFailure) -> T) throws -> T {
        let first = try ready()
        do {
            return try body(first)
        } catch {
            context = nil
            try rethrowUnlessRetryable(error, what, retry: retry)
            logger?.notice("Redis connection broke during a command; reconnecting to retry it",
                           ["endpoint": configuration.endpoint, "command": what, "reason": error.message])
        }
        let second = try ready()
        do {
            return try body(second)
        } catch {
            context = nil
            if error.kind == .timeout { throw timeoutError(what, error) }
            throw TMTError(.connection, "connection to Redis at \(configuration.endpoint) failed during \(what), also after reconnecting",
                           detail: error.message)
        }
    }

    private func rethrowUnlessRetryable(_ error: HiredisFailure, _ what: String, retry: RedisRetry) throws {
        switch error.kind {
        case .timeout:
            throw timeoutError(what, error)
        case .protocolError:
            throw TMTError(.protocolViolation, "Redis at \(configuration.endpoint) sent an invalid reply to \(what)", detail: error.message)
        case .other:
            throw TMTError(.connection, "Redis client failed during \(what)", detail: error.message)
        case .io:
            if retry == .never {
                throw TMTError(.connection,
                               "connection to Redis at \(configuration.endpoint) failed during \(what); not retried because it may have run",
                               detail: error.message)
            }
        }
    }

    private func timeoutError(_ what: String, _ error: HiredisFailure) -> TMTError {
        TMTError(.timeout,
                 "Redis \(what) got no reply within the \(configuration.commandTimeout)s command timeout; the connection was dropped and will reconnect",
                 detail: error.message)
    }

    /// The open context, after replacing a broken or stale one.
    private func ready() throws -> HiredisContext {
        if let c = context {
            if !c.isBroken && !c.isStale { return c }
            context = nil
            logger?.notice("Redis connection was closed; reconnecting", ["endpoint": configuration.endpoint])
        }
        let c = try connectWithBackoff()
        if hasConnectedBefore { metrics.reconnects.inc() }
        hasConnectedBefore = true
        context = c
        return c
    }

    private func connectWithBackoff() throws -> HiredisContext {
        var delay = configuration.reconnectBackoff
        var lastFailure = HiredisFailure(kind: .other, message: "no attempt made")
        for attempt in 1...configuration.reconnectAttempts {
            do {
                let c = try HiredisContext.connect(host: configuration.host, port: configuration.port,
                                                   connectTimeout: configuration.connectTimeout,
                                                   commandTimeout: configuration.commandTimeout)
                try handshake(c)
                return c
            } catch let failure as HiredisFailure {
                lastFailure = failure
            }
            if attempt < configuration.reconnectAttempts {
                TMTThread.sleep(delay)
                delay = min(delay * 2, 2)
            }
        }
        throw TMTError(.connection,
                       "could not connect to Redis at \(configuration.endpoint) after \(configuration.reconnectAttempts) attempt(s)",
                       detail: lastFailure.message)
    }

    /// `AUTH` and `SELECT` on a new socket. A rejected password or database is a configuration
    /// problem, so it fails at once instead of being retried.
    private func handshake(_ c: HiredisContext) throws {
        if let password = configuration.password {
            var args: [[UInt8]] = [Array("AUTH".utf8)]
            if let user = configuration.username { args.append(Array(user.utf8)) }
            args.append(Array(password.utf8))
            if case .error(let message) = try c.command(args) {
                throw TMTError(.connection, "Redis at \(configuration.endpoint) rejected the credentials",
                               detail: RedisReply.error(message).errorCode)
            }
        }
        if configuration.database != 0 {
            if case .error(let message) = try c.command(["SELECT", String(configuration.database)].map { Array($0.utf8) }) {
                throw TMTError(.connection, "Redis at \(configuration.endpoint) rejected database \(configuration.database)", detail: message)
            }
        }
    }
}
