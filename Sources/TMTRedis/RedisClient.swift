import Dispatch
import TMTBase
import TMTMetrics

/// The thread-safe Redis client services use: a small bounded pool of `RedisConnection`s.
///
/// Typed commands (`get`, `set`, `zadd`, `popDue`, `pipeline { … }`, …) come from
/// `RedisCommandExecutor`; each call borrows a connection for its duration. To run several
/// commands on one connection, use `withConnection`. The command methods block the calling
/// thread: call them from dedicated threads or queues, and from async code use the async
/// `withConnection`, which runs the work on the client's own dispatch queue instead of Swift's
/// cooperative pool.
///
/// Reconnects and retries follow `RedisConnection`'s rule (see `RedisRetry`). Metrics, on the
/// registry passed in: `tmt_redis_commands_total{command}`, `tmt_redis_errors_total{kind}`,
/// `tmt_redis_command_duration_seconds`, `tmt_redis_reconnects_total`.
public final class RedisClient: RedisCommandExecutor, Sendable {
    /// The validated configuration.
    public let configuration: RedisConfiguration
    private let pool: RedisConnectionPool
    private let queue = DispatchQueue(label: "tmt.redis.client", attributes: .concurrent)

    /// Validates `configuration`; connects lazily, on the first command. Metrics go to
    /// `metrics` (default: the process-wide registry); reconnects are logged on `logger`.
    public init(configuration: RedisConfiguration, metrics: MetricsRegistry = .shared, logger: Logger? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        pool = RedisConnectionPool(configuration: configuration, metrics: RedisMetrics(registry: metrics),
                                   logger: logger?.with("component", "redis"))
    }

    /// A client for `redis://…` (see `RedisConfiguration.init(url:)`).
    public convenience init(url: String, metrics: MetricsRegistry = .shared, logger: Logger? = nil) throws {
        try self.init(configuration: RedisConfiguration(url: url), metrics: metrics, logger: logger)
    }

    /// Runs `body` with a connection of its own, blocking the calling thread; waits at most
    /// `acquireTimeout` for one to come free (`TMTError(.poolExhausted, …)` otherwise).
    @available(*, noasync, message: "blocks the thread; use the async withConnection from async code")
    public func withConnection<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        try pool.withConnection(body)
    }

    /// Runs `body` with a connection of its own on the client's dispatch queue, so the blocking
    /// hiredis calls never occupy Swift's cooperative threads.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.pool.withConnection(body) })
            }
        }
    }

    /// Sends one command on a pooled connection.
    public func execute(_ command: RedisCommand) throws -> RedisReply {
        try pool.withConnection { try $0.execute(command) }
    }

    /// Sends a pipeline on one pooled connection.
    public func execute(pipeline commands: [RedisCommand]) throws -> [RedisReply] {
        try pool.withConnection { try $0.execute(pipeline: commands) }
    }

    /// Closes all connections; later calls throw `TMTError(.closed, …)`. Connections in use are
    /// closed when they come back.
    public func close() {
        pool.close()
    }
}
