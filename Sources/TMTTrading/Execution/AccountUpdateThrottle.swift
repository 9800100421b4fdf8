import TMTBase

/// Decides when to publish an account update: at once after a fill, otherwise at most once per
/// `minimumInterval` per account, and never losing the last change (a suppressed update becomes
/// due once the interval has passed; the agent polls `due()` from a timer). Pure state with an
/// injected clock, so tests drive it with `ManualClock`.
public struct AccountUpdateThrottle: Sendable {
    /// Minimum time between two non-fill updates of one account, in nanoseconds; default 250 ms.
    public let minimumIntervalNanos: UInt64
    private let clock: any TMTClock
    private var lastEmitted: [String: UInt64] = [:]
    private var suppressed: Set<String> = []

    /// - Parameters:
    ///   - minimumInterval: seconds between updates of one account; default 0.25. Negative
    ///     values count as 0.
    ///   - clock: source of monotonic time.
    public init(minimumInterval: Double = 0.25, clock: any TMTClock) {
        minimumIntervalNanos = UInt64((max(0, minimumInterval) * 1e9).rounded())
        self.clock = clock
    }

    /// Reports a change of `accountId` (`fill` true when a fill caused it) and returns whether to
    /// publish now. When it returns false the change is remembered and comes back from `due()`.
    public mutating func shouldEmit(accountId: String, fill: Bool) -> Bool {
        let now = clock.monotonicNanos()
        if fill || isOpen(accountId, now: now) {
            lastEmitted[accountId] = now
            suppressed.remove(accountId)
            return true
        }
        suppressed.insert(accountId)
        return false
    }

    /// Accounts whose suppressed change may now be published (sorted); they count as published.
    public mutating func due() -> [String] {
        let now = clock.monotonicNanos()
        let ready = suppressed.filter { isOpen($0, now: now) }.sorted()
        for id in ready {
            lastEmitted[id] = now
            suppressed.remove(id)
        }
        return ready
    }

    /// Nanoseconds (monotonic) when the next suppressed update becomes due; nil if none waits.
    public func nextDueNanos() -> UInt64? {
        suppressed.compactMap { id in lastEmitted[id].map { $0 &+ minimumIntervalNanos } }.min()
    }

    private func isOpen(_ accountId: String, now: UInt64) -> Bool {
        guard let last = lastEmitted[accountId] else { return true }
        return now &- last >= minimumIntervalNanos
    }
}
