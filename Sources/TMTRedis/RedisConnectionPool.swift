import Dispatch
import Synchronization
import TMTBase

/// At most `poolSize` connections, created on demand and reused most-recently-used first.
/// A caller waits up to `acquireTimeout` for one to come free.
final class RedisConnectionPool: Sendable {
    private struct State {
        var idle: [RedisConnection] = []
        var closed = false
    }

    private let configuration: RedisConfiguration
    private let metrics: RedisMetrics
    private let logger: Logger?
    /// One permit per connection that may be in use.
    private let permits: DispatchSemaphore
    private let state = Locked(State())

    init(configuration: RedisConfiguration, metrics: RedisMetrics, logger: Logger?) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        permits = DispatchSemaphore(value: configuration.poolSize)
    }

    /// Runs `body` with a connection no other thread uses meanwhile, then returns it to the pool.
    func withConnection<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        guard permits.wait(timeout: .now() + configuration.acquireTimeout) == .success else {
            metrics.error("pool")
            throw TMTError(.poolExhausted,
                           "no Redis connection came free within \(configuration.acquireTimeout)s (pool size \(configuration.poolSize))")
        }
        let taken: RedisConnection? = state.withLock { s in
            if s.closed { return nil }
            return s.idle.popLast() ?? RedisConnection(configuration: configuration, metrics: metrics, logger: logger)
        }
        guard let connection = taken else {
            permits.signal() // wakes the next waiter, which then sees `closed` too
            throw TMTError(.closed, "the Redis client is closed")
        }
        defer {
            let keep = state.withLock { s in
                if s.closed { return false }
                s.idle.append(connection)
                return true
            }
            if !keep { connection.close() }
            permits.signal()
        }
        return try body(connection)
    }

    /// Closes idle connections now and in-use ones when they come back; later calls throw
    /// `TMTError(.closed, …)`.
    func close() {
        let idle = state.withLock { s in
            s.closed = true
            defer { s.idle.removeAll() }
            return s.idle
        }
        for c in idle { c.close() }
        permits.signal()
    }
}
