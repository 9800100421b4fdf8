import TMTBase

/// Which accounts run the variant at a given percentage. Accounts are ranked by a hash of
/// experiment id and account id (FNV-1a, 64 bit, stable across processes and runs, unlike
/// `Hasher`), and a stage of p % takes the first ⌈p·n/100⌉ of them: the choice is deterministic,
/// differs between experiments, hits the proportion exactly, never leaves a stage empty, and
/// each stage contains the previous one.
public struct RolloutAssignment: Sendable, Equatable {
    /// The experiment the ranking belongs to.
    public let experimentId: String
    /// All eligible accounts, in rollout order.
    public let rankedAccounts: [String]

    /// Ranks `accounts` (duplicates removed) for `experimentId`.
    public init(experimentId: String, accounts: [String]) {
        self.experimentId = experimentId
        rankedAccounts = Set(accounts)
            .map { (Self.hash("\(experimentId)\u{0}\($0)"), $0) }
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map(\.1)
    }

    /// How many accounts a stage of `percent` % covers: ⌈percent·n/100⌉, clamped to 0...n.
    public func count(atPercent percent: Int) -> Int {
        let clamped = min(max(percent, 0), 100)
        return (clamped * rankedAccounts.count + 99) / 100
    }

    /// The accounts running the variant at `percent` %, in rollout order.
    public func accounts(atPercent percent: Int) -> [String] {
        Array(rankedAccounts.prefix(count(atPercent: percent)))
    }

    /// 64-bit FNV-1a of the UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        return value
    }
}
