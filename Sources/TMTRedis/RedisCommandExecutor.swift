import TMTBase

/// Something that runs Redis commands: a `RedisConnection` or a `RedisClient` (which takes a
/// pooled connection per call). The extension gives both the typed command methods.
///
/// All methods block the calling thread until the reply arrives. Error replies throw
/// `TMTError(.redis, …)`; connection failures `.connection`; command timeouts `.timeout`; a reply
/// of an unexpected type `.decoding`. Keys are UTF-8 text; values are any
/// `RedisValueConvertible` (bytes, `Data`, text, numbers) and are sent binary-safe.
public protocol RedisCommandExecutor: Sendable {
    /// Sends one command; an error reply throws `TMTError(.redis, …)`.
    func execute(_ command: RedisCommand) throws -> RedisReply
    /// Sends all commands in one round trip and returns their replies in order, error replies
    /// in their slots.
    func execute(pipeline commands: [RedisCommand]) throws -> [RedisReply]
}

extension RedisCommandExecutor {
    // MARK: Generic

    /// Any command from raw arguments, name first (e.g. `[Array("OBJECT".utf8), …]`).
    /// Not retried after a broken connection unless `retry` is `.once`.
    @discardableResult
    public func command(_ arguments: [[UInt8]], retry: RedisRetry = .never) throws -> RedisReply {
        try execute(RedisCommand(arguments, retry: retry))
    }

    /// Any command from text arguments, name first (e.g. `["CLIENT", "SETNAME", "aria"]`).
    @discardableResult
    public func command(_ arguments: [String], retry: RedisRetry = .never) throws -> RedisReply {
        try execute(RedisCommand(arguments, retry: retry))
    }

    /// Collects commands with `build`, sends them in one round trip and returns their replies in
    /// order: `pipeline { p in p.set("a", "1"); p.incr("n") }`.
    public func pipeline(_ build: (RedisPipeline) throws -> Void) throws -> [RedisReply] {
        let p = RedisPipeline()
        try build(p)
        return try execute(pipeline: p.commands)
    }

    // MARK: Keys and strings

    /// `PING`; returns `PONG`.
    @discardableResult
    public func ping() throws -> String { try execute(.ping()).status() }

    /// `GET`: the value's bytes, or `nil` if the key does not exist.
    public func get(_ key: String) throws -> [UInt8]? { try execute(.get(key)).bytes() }

    /// `GET` as text (invalid UTF-8 repaired), or `nil` if the key does not exist.
    public func getString(_ key: String) throws -> String? { try execute(.get(key)).string() }

    /// `SET` with optional `EX`/`PX` expiry and `NX`/`XX` condition. Returns false when the
    /// condition was not met (nothing was written).
    @discardableResult
    public func set(_ key: String, _ value: some RedisValueConvertible, expiry: RedisExpiry? = nil,
                    condition: RedisSetCondition = .always, retry: RedisRetry = .never) throws -> Bool {
        !(try execute(.set(key, value, expiry: expiry, condition: condition, retry: retry)).isNull)
    }

    /// `DEL`: how many of the keys existed.
    @discardableResult
    public func del(_ keys: String..., retry: RedisRetry = .never) throws -> Int { try del(keys, retry: retry) }

    /// `DEL`: how many of the keys existed.
    @discardableResult
    public func del(_ keys: [String], retry: RedisRetry = .never) throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return Int(try execute(.del(keys, retry: retry)).integer())
    }

    /// `EXISTS`: how many of the keys exist (a key named twice counts twice).
    public func exists(_ keys: String...) throws -> Int { try exists(keys) }

    /// `EXISTS`: how many of the keys exist.
    public func exists(_ keys: [String]) throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return Int(try execute(.exists(keys)).integer())
    }

    /// `EXPIRE`: true if the key exists and now expires in `seconds`.
    @discardableResult
    public func expire(_ key: String, seconds: Int, retry: RedisRetry = .never) throws -> Bool {
        try execute(.expire(key, seconds: seconds, retry: retry)).integer() == 1
    }

    /// `PEXPIRE`: true if the key exists and now expires in `milliseconds`.
    @discardableResult
    public func pexpire(_ key: String, milliseconds: Int, retry: RedisRetry = .never) throws -> Bool {
        try execute(.pexpire(key, milliseconds: milliseconds, retry: retry)).integer() == 1
    }

    /// `INCR`: the new value. Never retried after a broken connection (it would count twice).
    @discardableResult
    public func incr(_ key: String) throws -> Int64 { try execute(.incr(key)).integer() }

    /// `INCRBY`: the new value.
    @discardableResult
    public func incrBy(_ key: String, _ delta: Int64) throws -> Int64 { try execute(.incrBy(key, delta)).integer() }

    /// `INCRBYFLOAT`: the new value.
    @discardableResult
    public func incrByFloat(_ key: String, _ delta: Double) throws -> Double {
        guard let v = try execute(.incrByFloat(key, delta)).double() else {
            throw TMTError(.decoding, "INCRBYFLOAT returned nil")
        }
        return v
    }

    /// `MGET`: one value per key, `nil` where the key does not exist.
    public func mget(_ keys: [String]) throws -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        return try execute(.mget(keys)).optionalBytesArray()
    }

    /// `MSET`: sets all keys atomically.
    public func mset(_ values: [String: any RedisValueConvertible], retry: RedisRetry = .never) throws {
        guard !values.isEmpty else { return }
        _ = try execute(.mset(values, retry: retry))
    }

    // MARK: Hashes

    /// `HSET key field value`: true if the field is new.
    @discardableResult
    public func hset(_ key: String, field: String, value: some RedisValueConvertible, retry: RedisRetry = .never) throws -> Bool {
        try execute(.hset(key, [field: value], retry: retry)).integer() == 1
    }

    /// `HSET key field value …`: how many fields are new.
    @discardableResult
    public func hset(_ key: String, _ fields: [String: any RedisValueConvertible], retry: RedisRetry = .never) throws -> Int {
        guard !fields.isEmpty else { return 0 }
        return Int(try execute(.hset(key, fields, retry: retry)).integer())
    }

    /// `HGET`: the field's bytes, or `nil`.
    public func hget(_ key: String, _ field: String) throws -> [UInt8]? { try execute(.hget(key, field)).bytes() }

    /// `HGET` as text, or `nil`.
    public func hgetString(_ key: String, _ field: String) throws -> String? { try execute(.hget(key, field)).string() }

    /// `HGETALL`: every field and value; empty if the key does not exist.
    public func hgetAll(_ key: String) throws -> [String: [UInt8]] { try execute(.hgetAll(key)).fieldValues() }

    /// `HDEL`: how many fields were removed.
    @discardableResult
    public func hdel(_ key: String, _ fields: String..., retry: RedisRetry = .never) throws -> Int {
        guard !fields.isEmpty else { return 0 }
        return Int(try execute(.hdel(key, fields, retry: retry)).integer())
    }

    /// `HINCRBY`: the field's new value.
    @discardableResult
    public func hincrBy(_ key: String, _ field: String, _ delta: Int64) throws -> Int64 {
        try execute(.hincrBy(key, field, delta)).integer()
    }

    // MARK: Sorted sets

    /// `ZADD key score member`: true if the member is new (false: its score was updated).
    @discardableResult
    public func zadd(_ key: String, score: Double, member: some RedisValueConvertible, retry: RedisRetry = .never) throws -> Bool {
        try execute(.zadd(key, [(member: member, score: score)], retry: retry)).integer() == 1
    }

    /// `ZADD key score member …`: how many members are new.
    @discardableResult
    public func zadd<M: RedisValueConvertible>(_ key: String, _ members: [(member: M, score: Double)], retry: RedisRetry = .never) throws -> Int {
        guard !members.isEmpty else { return 0 }
        return Int(try execute(.zadd(key, members, retry: retry)).integer())
    }

    /// `ZRANGEBYSCORE`: members with `min ≤ score ≤ max` (bounds as given), lowest first,
    /// optionally `LIMIT offset count`.
    public func zrangeByScore(_ key: String, min: RedisScoreBound = .negativeInfinity, max: RedisScoreBound = .positiveInfinity,
                              limit: (offset: Int, count: Int)? = nil) throws -> [[UInt8]] {
        try execute(.zrangeByScore(key, min: min, max: max, limit: limit)).bytesArray()
    }

    /// `ZRANGEBYSCORE … WITHSCORES`: members and scores, lowest first.
    public func zrangeByScoreWithScores(_ key: String, min: RedisScoreBound = .negativeInfinity,
                                        max: RedisScoreBound = .positiveInfinity,
                                        limit: (offset: Int, count: Int)? = nil) throws -> [RedisScoredMember] {
        try execute(.zrangeByScore(key, min: min, max: max, withScores: true, limit: limit)).scoredMembers()
    }

    /// `ZREM`: how many members were removed.
    @discardableResult
    public func zrem(_ key: String, _ members: String..., retry: RedisRetry = .never) throws -> Int {
        try zrem(key, members: members, retry: retry)
    }

    /// `ZREM`: how many members were removed.
    @discardableResult
    public func zrem(_ key: String, members: [any RedisValueConvertible], retry: RedisRetry = .never) throws -> Int {
        guard !members.isEmpty else { return 0 }
        return Int(try execute(.zrem(key, members, retry: retry)).integer())
    }

    /// `ZCARD`: the number of members (0 if the key does not exist).
    public func zcard(_ key: String) throws -> Int { Int(try execute(.zcard(key)).integer()) }

    /// `ZSCORE`: the member's score, or `nil` if it is not in the set.
    public func zscore(_ key: String, _ member: some RedisValueConvertible) throws -> Double? {
        try execute(.zscore(key, member)).double()
    }

    /// Atomically removes and returns the members of the sorted set `queue` whose score is
    /// ≤ `maxScore`, lowest first, at most `limit` (default 100), with their scores. Two callers
    /// never get the same member. Runs `RedisScript.popDue`.
    ///
    /// Not retried after a broken connection: if the connection breaks after the script ran,
    /// the popped members are lost to this caller, so the error is surfaced instead.
    public func popDue(queue: String, maxScore: Double, limit: Int = 100) throws -> [RedisScoredMember] {
        guard limit > 0 else { return [] }
        return try evalScript(.popDue, keys: [queue], args: [maxScore, limit]).scoredMembers()
    }

    // MARK: Scripts and pub/sub

    /// `EVAL script numkeys key… arg…`: the script's reply.
    @discardableResult
    public func eval(_ script: String, keys: [String] = [], args: [any RedisValueConvertible] = [],
                     retry: RedisRetry = .never) throws -> RedisReply {
        try execute(.eval(script, keys: keys, args: args, retry: retry))
    }

    /// `EVALSHA sha1 numkeys key… arg…`: the script's reply; `NOSCRIPT` if the server does not
    /// have the script cached.
    @discardableResult
    public func evalSHA(_ sha1: String, keys: [String] = [], args: [any RedisValueConvertible] = [],
                        retry: RedisRetry = .never) throws -> RedisReply {
        try execute(.evalSHA(sha1, keys: keys, args: args, retry: retry))
    }

    /// Runs a script by SHA-1, sending its source (`EVAL`) only when the server answers
    /// `NOSCRIPT` (first use, or after a restart emptied the script cache). That `NOSCRIPT`
    /// reply counts once in `tmt_redis_errors_total{kind="reply"}`.
    @discardableResult
    public func evalScript(_ script: RedisScript, keys: [String] = [], args: [any RedisValueConvertible] = [],
                           retry: RedisRetry = .never) throws -> RedisReply {
        do {
            return try evalSHA(script.sha1, keys: keys, args: args, retry: retry)
        } catch let e as TMTError where e.code == .redis && (e.detail ?? "").hasPrefix("NOSCRIPT") {
            return try eval(script.source, keys: keys, args: args, retry: retry)
        }
    }

    /// `PUBLISH`: how many subscribers received the message. Never retried (it could deliver
    /// twice).
    @discardableResult
    public func publish(_ channel: String, _ message: some RedisValueConvertible) throws -> Int {
        Int(try execute(.publish(channel, message)).integer())
    }
}
