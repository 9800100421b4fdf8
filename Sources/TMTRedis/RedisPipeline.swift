/// Commands collected to be sent in one go: all are written with `redisAppendCommandArgv`, then
/// the replies are read in the same order with `redisGetReply`. One round trip instead of N.
///
/// Built inside `pipeline { p in … }`; each method returns the index of its reply in the array
/// the pipeline returns. Not a transaction: other clients' commands may run in between, and a
/// command's error reply is returned in its slot as `.error` rather than thrown.
public final class RedisPipeline {
    /// The commands so far, in sending order.
    public private(set) var commands: [RedisCommand] = []

    init() {}

    /// Adds any command; returns its reply index.
    @discardableResult
    public func add(_ command: RedisCommand) -> Int {
        commands.append(command)
        return commands.count - 1
    }

    /// Adds a command from raw arguments (name first).
    @discardableResult
    public func command(_ arguments: [[UInt8]], retry: RedisRetry = .never) -> Int { add(RedisCommand(arguments, retry: retry)) }

    /// Adds a command from text arguments (name first).
    @discardableResult
    public func command(_ arguments: [String], retry: RedisRetry = .never) -> Int { add(RedisCommand(arguments, retry: retry)) }

    @discardableResult public func ping() -> Int { add(.ping()) }
    @discardableResult public func get(_ key: String) -> Int { add(.get(key)) }
    @discardableResult
    public func set(_ key: String, _ value: some RedisValueConvertible, expiry: RedisExpiry? = nil,
                    condition: RedisSetCondition = .always, retry: RedisRetry = .never) -> Int {
        add(.set(key, value, expiry: expiry, condition: condition, retry: retry))
    }
    @discardableResult public func del(_ keys: String..., retry: RedisRetry = .never) -> Int { add(.del(keys, retry: retry)) }
    @discardableResult public func exists(_ keys: String...) -> Int { add(.exists(keys)) }
    @discardableResult public func expire(_ key: String, seconds: Int, retry: RedisRetry = .never) -> Int {
        add(.expire(key, seconds: seconds, retry: retry))
    }
    @discardableResult public func pexpire(_ key: String, milliseconds: Int, retry: RedisRetry = .never) -> Int {
        add(.pexpire(key, milliseconds: milliseconds, retry: retry))
    }
    @discardableResult public func incr(_ key: String) -> Int { add(.incr(key)) }
    @discardableResult public func incrBy(_ key: String, _ delta: Int64) -> Int { add(.incrBy(key, delta)) }
    @discardableResult public func incrByFloat(_ key: String, _ delta: Double) -> Int { add(.incrByFloat(key, delta)) }
    @discardableResult public func mget(_ keys: [String]) -> Int { add(.mget(keys)) }
    @discardableResult public func mset(_ values: [String: any RedisValueConvertible], retry: RedisRetry = .never) -> Int {
        add(.mset(values, retry: retry))
    }
    @discardableResult public func hset(_ key: String, _ fields: [String: any RedisValueConvertible], retry: RedisRetry = .never) -> Int {
        add(.hset(key, fields, retry: retry))
    }
    @discardableResult public func hget(_ key: String, _ field: String) -> Int { add(.hget(key, field)) }
    @discardableResult public func hgetAll(_ key: String) -> Int { add(.hgetAll(key)) }
    @discardableResult public func hdel(_ key: String, _ fields: String..., retry: RedisRetry = .never) -> Int {
        add(.hdel(key, fields, retry: retry))
    }
    @discardableResult public func hincrBy(_ key: String, _ field: String, _ delta: Int64) -> Int { add(.hincrBy(key, field, delta)) }
    @discardableResult
    public func zadd<M: RedisValueConvertible>(_ key: String, _ members: [(member: M, score: Double)], retry: RedisRetry = .never) -> Int {
        add(.zadd(key, members, retry: retry))
    }
    @discardableResult public func zrangeByScore(_ key: String, min: RedisScoreBound = .negativeInfinity,
                                                 max: RedisScoreBound = .positiveInfinity, withScores: Bool = false,
                                                 limit: (offset: Int, count: Int)? = nil) -> Int {
        add(.zrangeByScore(key, min: min, max: max, withScores: withScores, limit: limit))
    }
    @discardableResult public func zrem(_ key: String, _ members: String..., retry: RedisRetry = .never) -> Int {
        add(.zrem(key, members, retry: retry))
    }
    @discardableResult public func zcard(_ key: String) -> Int { add(.zcard(key)) }
    @discardableResult public func zscore(_ key: String, _ member: some RedisValueConvertible) -> Int { add(.zscore(key, member)) }
    @discardableResult public func eval(_ script: String, keys: [String] = [], args: [any RedisValueConvertible] = [],
                                        retry: RedisRetry = .never) -> Int {
        add(.eval(script, keys: keys, args: args, retry: retry))
    }
    @discardableResult public func evalSHA(_ sha1: String, keys: [String] = [], args: [any RedisValueConvertible] = [],
                                           retry: RedisRetry = .never) -> Int {
        add(.evalSHA(sha1, keys: keys, args: args, retry: retry))
    }
    @discardableResult public func publish(_ channel: String, _ message: some RedisValueConvertible) -> Int { add(.publish(channel, message)) }
}
