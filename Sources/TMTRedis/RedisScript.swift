/// A Lua script with its SHA-1, run with `EVALSHA` and, when the server does not know it yet
/// (first use, or after a restart emptied the script cache), with `EVAL`.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The lowercase hex SHA-1 of `source`, as Redis names scripts.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(Array(source.utf8))
    }

    /// Atomically removes and returns the members of the sorted set `KEYS[1]` whose score is at
    /// most `ARGV[1]`, lowest score first, at most `ARGV[2]` of them, as a flat
    /// member/score array. Because the range read and the removal run as one script, two
    /// consumers never receive the same member. Used by the human-behaviour delay queue, where
    /// the score is the due time.
    public static let popDue = RedisScript("""
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
        for i = 1, #due, 2 do
            redis.call('ZREM', KEYS[1], due[i])
        end
        return due
        """)
}
