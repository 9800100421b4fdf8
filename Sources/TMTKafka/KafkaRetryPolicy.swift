/// How often a consumer retries a message whose handler threw a transient error, and how long it
/// waits in between (exponential backoff). After the last attempt the message goes to the DLQ.
public struct KafkaRetryPolicy: Sendable, Equatable {
    /// Attempts in total, the first one included. Default 3; 1 means no retry.
    public var maxAttempts: Int
    /// Wait before the second attempt, in seconds. Default 0.1.
    public var initialBackoff: Double
    /// Factor applied to the wait after each further failure. Default 2.
    public var multiplier: Double
    /// Longest wait between attempts, in seconds. Default 2.
    public var maxBackoff: Double

    /// A policy; out-of-range values are clamped (at least one attempt, no negative waits).
    public init(maxAttempts: Int = 3, initialBackoff: Double = 0.1, multiplier: Double = 2, maxBackoff: Double = 2) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(0, initialBackoff)
        self.multiplier = max(1, multiplier)
        self.maxBackoff = max(0, maxBackoff)
    }

    /// Seconds to wait after failed attempt number `attempt` (1-based) before the next one.
    public func backoff(afterAttempt attempt: Int) -> Double {
        var wait = initialBackoff
        var n = 1
        while n < attempt && wait < maxBackoff {
            wait *= multiplier
            n += 1
        }
        return min(wait, maxBackoff)
    }
}
