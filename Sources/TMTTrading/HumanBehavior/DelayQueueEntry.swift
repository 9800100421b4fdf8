import TMTBase

/// One order waiting in the Redis delay queue (a sorted set): the member is the order
/// envelope's id, the score its release time in µs since the epoch.
///
/// µs since the epoch (~1.8e15 today) are below 2^53, so a score is an exact integer in Redis'
/// double. Add with `ZADD NX` so a redelivered order keeps its first release time; pop with
/// `popDue(queue:maxScore: now µs)`.
public struct DelayQueueEntry: Sendable, Hashable {
    /// Largest score a double holds exactly as an integer (2^53).
    public static let maxExactScore: Int64 = 9_007_199_254_740_992

    /// The order envelope's id (deterministic for an order, so re-adding is idempotent).
    public var envelopeId: String
    /// Release time. Unit: µs since the epoch, 0…2^53.
    public var releaseAt: Int64

    public init(envelopeId: String, releaseAt: Int64) {
        self.envelopeId = envelopeId
        self.releaseAt = releaseAt
    }

    /// The sorted-set member.
    public var member: String { envelopeId }
    /// The sorted-set score.
    public var score: Double { Double(releaseAt) }
    /// The score as Redis text: the integer in decimal, e.g. `1800000000000000`.
    public var scoreString: String { String(releaseAt) }

    /// Checks that the entry can round-trip through Redis: a non-empty id and a score in 0…2^53.
    public func validated() throws(TMTError) -> DelayQueueEntry {
        guard !envelopeId.isEmpty else { throw TMTError(.encoding, "delay queue entry: empty envelope id") }
        guard (0...Self.maxExactScore).contains(releaseAt) else {
            throw TMTError(.encoding, "delay queue entry \(envelopeId): releaseAt \(releaseAt) outside 0…2^53")
        }
        return self
    }

    /// Decodes a popped member and its score; the score must be a whole number of µs in 0…2^53.
    public init(member: String, score: Double) throws(TMTError) {
        guard !member.isEmpty else { throw TMTError(.decoding, "delay queue entry: empty member") }
        guard score.isFinite, score >= 0, score <= Double(Self.maxExactScore), score == score.rounded(.towardZero) else {
            throw TMTError(.decoding, "delay queue entry \(member): score \(score) is not a whole number of µs in 0…2^53")
        }
        self.init(envelopeId: member, releaseAt: Int64(score))
    }

    /// Decodes a member and a score as Redis writes it (`1800000000000000`, `1.8e+15`).
    public init(member: String, scoreString: String) throws(TMTError) {
        guard let score = Double(scoreString.trimmingWhitespace()) else {
            throw TMTError(.decoding, "delay queue entry \(member): score '\(scoreString)' is not a number")
        }
        try self.init(member: member, score: score)
    }
}
