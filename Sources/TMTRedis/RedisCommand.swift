/// One Redis command as binary-safe arguments (command name first), plus whether it may be
/// re-sent after the connection broke while it was in flight.
///
/// Commands travel with `redisCommandArgv`/`redisAppendCommandArgv` (argument pointers and
/// lengths), never through a printf-style format string, so any bytes — NUL, CR LF, `%s`,
/// invalid UTF-8 — are sent exactly. There is deliberately no API that takes a format string.
///
/// The static factories build the commands the typed methods of `RedisCommandExecutor` and
/// `RedisPipeline` send. Read-only commands default to `retry: .once`; writes default to
/// `.never` unless the caller says the write is idempotent (see `RedisRetry`).
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// The arguments, command name first.
    public var arguments: [[UInt8]]
    /// Whether the command may be re-sent once after a reconnect (see `RedisRetry`).
    public var retry: RedisRetry

    /// A command from raw arguments (the command name first).
    public init(_ arguments: [[UInt8]], retry: RedisRetry = .never) {
        self.arguments = arguments
        self.retry = retry
    }

    /// A command from text arguments, sent as UTF-8.
    public init(_ arguments: [String], retry: RedisRetry = .never) {
        self.init(arguments.map { Array($0.utf8) }, retry: retry)
    }

    /// A command from a name and arguments of any convertible type.
    public init(_ name: String, _ arguments: [any RedisValueConvertible], retry: RedisRetry = .never) {
        var args: [[UInt8]] = [Array(name.utf8)]
        args.reserveCapacity(arguments.count + 1)
        for a in arguments { args.append(a.redisBytes) }
        self.init(args, retry: retry)
    }

    /// The upper-cased command name for metrics labels and error messages, or `OTHER` when the
    /// first argument is not a plausible command name (keeps label cardinality bounded and
    /// keeps data out of messages).
    public var name: String {
        guard let first = arguments.first, (1...24).contains(first.count),
              first.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D })
        else { return "OTHER" }
        return String(decoding: first, as: UTF8.self).uppercased()
    }

    /// The command name and argument count; never the arguments (they may be secrets or data).
    public var description: String { "\(name) (\(max(arguments.count - 1, 0)) args)" }
}

/// Whether a command is re-sent once when the connection breaks while it is in flight.
///
/// The rule: a connection found broken *before* sending (a previous error, or a socket the
/// server closed while idle) is always reconnected first, since nothing was sent. A connection
/// that breaks *after* sending leaves it unknown whether the server ran the command. Then the
/// command is reconnected and re-sent once only if it is `.once`: reads by default, writes only
/// when the caller passes `retry: .once` because the write is idempotent (`SET` without `NX`,
/// `HSET`, `EXPIRE`, `ZADD`, `DEL`). Otherwise the call throws `TMTError(.connection, …)` and the
/// next call reconnects. Timeouts (`TMTError(.timeout, …)`) and error replies are never retried.
public enum RedisRetry: Sendable, Hashable {
    /// Surface the failure; the next call reconnects.
    case never
    /// Reconnect and send the command once more.
    case once
}

/// Expiry of a key set with `SET`.
public enum RedisExpiry: Sendable, Hashable {
    /// `EX seconds`.
    case seconds(Int)
    /// `PX milliseconds`.
    case milliseconds(Int)
}

/// The condition of a `SET`.
public enum RedisSetCondition: Sendable, Hashable {
    /// Always set.
    case always
    /// `NX`: only if the key does not exist (locks, de-duplication).
    case ifNotExists
    /// `XX`: only if the key exists.
    case ifExists
}

/// One end of a score range (`ZRANGEBYSCORE`).
public enum RedisScoreBound: Sendable, Hashable {
    /// The score itself is included.
    case inclusive(Double)
    /// The score itself is excluded (`(score`).
    case exclusive(Double)
    /// `-inf`.
    case negativeInfinity
    /// `+inf`.
    case positiveInfinity

    var argument: [UInt8] {
        switch self {
        case .inclusive(let v): Array(RedisValueFormat.double(v).utf8)
        case .exclusive(let v): Array("(\(RedisValueFormat.double(v))".utf8)
        case .negativeInfinity: Array("-inf".utf8)
        case .positiveInfinity: Array("+inf".utf8)
        }
    }
}

extension RedisCommand {
    private static func make(_ name: String, _ args: [[UInt8]], retry: RedisRetry) -> RedisCommand {
        RedisCommand([Array(name.utf8)] + args, retry: retry)
    }

    private static func k(_ key: String) -> [UInt8] { Array(key.utf8) }

    /// `PING`.
    public static func ping() -> RedisCommand { make("PING", [], retry: .once) }

    /// `GET key`.
    public static func get(_ key: String) -> RedisCommand { make("GET", [k(key)], retry: .once) }

    /// `SET key value [EX s|PX ms] [NX|XX]`.
    public static func set(_ key: String, _ value: some RedisValueConvertible, expiry: RedisExpiry? = nil,
                           condition: RedisSetCondition = .always, retry: RedisRetry = .never) -> RedisCommand {
        var args = [k(key), value.redisBytes]
        switch expiry {
        case .seconds(let s)?: args += [Array("EX".utf8), Array(String(s).utf8)]
        case .milliseconds(let ms)?: args += [Array("PX".utf8), Array(String(ms).utf8)]
        case nil: break
        }
        switch condition {
        case .always: break
        case .ifNotExists: args.append(Array("NX".utf8))
        case .ifExists: args.append(Array("XX".utf8))
        }
        return make("SET", args, retry: retry)
    }

    /// `DEL key…`.
    public static func del(_ keys: [String], retry: RedisRetry = .never) -> RedisCommand {
        make("DEL", keys.map(k), retry: retry)
    }

    /// `EXISTS key…`.
    public static func exists(_ keys: [String]) -> RedisCommand { make("EXISTS", keys.map(k), retry: .once) }

    /// `EXPIRE key seconds`.
    public static func expire(_ key: String, seconds: Int, retry: RedisRetry = .never) -> RedisCommand {
        make("EXPIRE", [k(key), Array(String(seconds).utf8)], retry: retry)
    }

    /// `PEXPIRE key milliseconds`.
    public static func pexpire(_ key: String, milliseconds: Int, retry: RedisRetry = .never) -> RedisCommand {
        make("PEXPIRE", [k(key), Array(String(milliseconds).utf8)], retry: retry)
    }

    /// `INCR key`.
    public static func incr(_ key: String) -> RedisCommand { make("INCR", [k(key)], retry: .never) }

    /// `INCRBY key delta`.
    public static func incrBy(_ key: String, _ delta: Int64) -> RedisCommand {
        make("INCRBY", [k(key), delta.redisBytes], retry: .never)
    }

    /// `INCRBYFLOAT key delta`.
    public static func incrByFloat(_ key: String, _ delta: Double) -> RedisCommand {
        make("INCRBYFLOAT", [k(key), delta.redisBytes], retry: .never)
    }

    /// `MGET key…`.
    public static func mget(_ keys: [String]) -> RedisCommand { make("MGET", keys.map(k), retry: .once) }

    /// `MSET key value …` (pairs sent in key order, so the command is deterministic).
    public static func mset(_ values: [String: any RedisValueConvertible], retry: RedisRetry = .never) -> RedisCommand {
        var args: [[UInt8]] = []
        args.reserveCapacity(values.count * 2)
        for key in values.keys.sorted() {
            args.append(k(key))
            args.append(values[key]!.redisBytes)
        }
        return make("MSET", args, retry: retry)
    }

    /// `HSET key field value …` (fields sent in field order).
    public static func hset(_ key: String, _ fields: [String: any RedisValueConvertible], retry: RedisRetry = .never) -> RedisCommand {
        var args = [k(key)]
        for field in fields.keys.sorted() {
            args.append(k(field))
            args.append(fields[field]!.redisBytes)
        }
        return make("HSET", args, retry: retry)
    }

    /// `HGET key field`.
    public static func hget(_ key: String, _ field: String) -> RedisCommand { make("HGET", [k(key), k(field)], retry: .once) }

    /// `HGETALL key`.
    public static func hgetAll(_ key: String) -> RedisCommand { make("HGETALL", [k(key)], retry: .once) }

    /// `HDEL key field…`.
    public static func hdel(_ key: String, _ fields: [String], retry: RedisRetry = .never) -> RedisCommand {
        make("HDEL", [k(key)] + fields.map(k), retry: retry)
    }

    /// `HINCRBY key field delta`.
    public static func hincrBy(_ key: String, _ field: String, _ delta: Int64) -> RedisCommand {
        make("HINCRBY", [k(key), k(field), delta.redisBytes], retry: .never)
    }

    /// `ZADD key score member …`.
    public static func zadd<M: RedisValueConvertible>(_ key: String, _ members: [(member: M, score: Double)],
                                                      retry: RedisRetry = .never) -> RedisCommand {
        var args = [k(key)]
        args.reserveCapacity(members.count * 2 + 1)
        for m in members {
            args.append(m.score.redisBytes)
            args.append(m.member.redisBytes)
        }
        return make("ZADD", args, retry: retry)
    }

    /// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`.
    public static func zrangeByScore(_ key: String, min: RedisScoreBound, max: RedisScoreBound, withScores: Bool = false,
                                     limit: (offset: Int, count: Int)? = nil) -> RedisCommand {
        var args = [k(key), min.argument, max.argument]
        if withScores { args.append(Array("WITHSCORES".utf8)) }
        if let limit { args += [Array("LIMIT".utf8), limit.offset.redisBytes, limit.count.redisBytes] }
        return make("ZRANGEBYSCORE", args, retry: .once)
    }

    /// `ZREM key member…`.
    public static func zrem(_ key: String, _ members: [any RedisValueConvertible], retry: RedisRetry = .never) -> RedisCommand {
        make("ZREM", [k(key)] + members.map(\.redisBytes), retry: retry)
    }

    /// `ZCARD key`.
    public static func zcard(_ key: String) -> RedisCommand { make("ZCARD", [k(key)], retry: .once) }

    /// `ZSCORE key member`.
    public static func zscore(_ key: String, _ member: some RedisValueConvertible) -> RedisCommand {
        make("ZSCORE", [k(key), member.redisBytes], retry: .once)
    }

    /// `EVAL script numkeys key… arg…`. Scripts may write, so the default is not to retry.
    public static func eval(_ script: String, keys: [String] = [], args: [any RedisValueConvertible] = [],
                            retry: RedisRetry = .never) -> RedisCommand {
        make("EVAL", [k(script), keys.count.redisBytes] + keys.map(k) + args.map(\.redisBytes), retry: retry)
    }

    /// `EVALSHA sha1 numkeys key… arg…`.
    public static func evalSHA(_ sha1: String, keys: [String] = [], args: [any RedisValueConvertible] = [],
                               retry: RedisRetry = .never) -> RedisCommand {
        make("EVALSHA", [k(sha1), keys.count.redisBytes] + keys.map(k) + args.map(\.redisBytes), retry: retry)
    }

    /// `PUBLISH channel message`. Never retried: a retry could deliver the message twice.
    public static func publish(_ channel: String, _ message: some RedisValueConvertible) -> RedisCommand {
        make("PUBLISH", [k(channel), message.redisBytes], retry: .never)
    }
}
