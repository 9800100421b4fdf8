import TMTBase

/// The closed trades a rollout stage is judged on, split by what really produced them: the
/// variant's trades are those whose opening signal carries the experiment's tag
/// (`ClosedTrade.experiment`), the baseline's those whose opening signal carries none. Account
/// membership decides nothing: a variant account whose update wyckoff-analysis refused (DLQ) or
/// has not applied yet keeps trading baseline signals, and those trades are baseline trades.
/// Trades of another experiment's variant belong to neither side.
public struct RolloutTradeSplit: Sendable, Equatable {
    /// Trades opened by the experiment's variant since the stage started.
    public var variant: [ClosedTrade]
    /// Trades opened by baseline signals since the stage started.
    public var baseline: [ClosedTrade]

    /// Splits, for `experiment`, the `trades` whose opening order was created at or after
    /// `sinceMillis` (ms since the epoch, wall clock: when the stage started). The market time
    /// of the entry is not comparable with it (a simulated market runs ahead or behind); a trade
    /// without its order's time is taken by its entry time.
    public init(trades: [ClosedTrade], experiment: String, sinceMillis: Int64) {
        let current = trades.filter { ($0.orderedAt ?? $0.entryTime) >= sinceMillis }
        variant = current.filter { $0.experiment == experiment }
        baseline = current.filter { $0.experiment == nil }
    }

    /// Whether the stage can be judged at all: only once trades tagged with the experiment exist
    /// (until then the variant has not traded, whatever the accounts did).
    public var isJudgeable: Bool { !variant.isEmpty }
}
