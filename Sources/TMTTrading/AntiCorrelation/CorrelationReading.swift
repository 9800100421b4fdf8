import TMTBase

/// How alike the ordering account and one other account are over one window, with both
/// measures and the order's effect on exposure similarity. All values have 4 places.
public struct CorrelationReading: Sendable, Equatable {
    /// The other account.
    public var account: String
    /// Window name (`5m`, `1h`, `1d`).
    public var window: String
    /// Pearson correlation of the two accounts' bucket returns; nil when there are fewer than the
    /// window's minimum common returns or either series is flat.
    public var returnCorrelation: Decimal?
    /// Common bucket returns the Pearson figure was (or would have been) computed on.
    public var overlap: Int
    /// Cosine similarity of the exposure vectors before the order; nil when either is empty.
    public var exposureBefore: Decimal?
    /// The same after adding the order's exposure to the ordering account.
    public var exposureAfter: Decimal?

    public init(account: String, window: String, returnCorrelation: Decimal?, overlap: Int,
                exposureBefore: Decimal?, exposureAfter: Decimal?) {
        self.account = account
        self.window = window
        self.returnCorrelation = returnCorrelation
        self.overlap = overlap
        self.exposureBefore = exposureBefore
        self.exposureAfter = exposureAfter
    }

    /// The pair's correlation: the larger of the return correlation and the exposure similarity
    /// after the order, whichever exist. Max because either alone is evidence the accounts move
    /// together: the return series knows about correlated instruments (EUR_USD vs GBP_USD) that
    /// the exposure vector treats as unrelated, and the exposure vector knows about positions too
    /// new to have left a trace in the returns. Nil when neither is available.
    public var combined: Decimal? {
        switch (returnCorrelation, exposureAfter) {
        case let (r?, e?): max(r, e)
        case let (r?, nil): r
        case let (nil, e?): e
        case (nil, nil): nil
        }
    }

    /// Which measure gave `combined`: `returns` (ties included) or `exposure`; nil when neither exists.
    public var combinedMeasure: String? {
        switch (returnCorrelation, exposureAfter) {
        case let (r?, e?): r >= e ? "returns" : "exposure"
        case (_?, nil): "returns"
        case (nil, _?): "exposure"
        case (nil, nil): nil
        }
    }

    /// True when the order makes the two exposures less alike (after < before). Such an order
    /// moves the accounts apart, which is what anti-correlation wants, so this pair does not
    /// count against it.
    public var orderLowersSimilarity: Bool {
        guard let before = exposureBefore, let after = exposureAfter else { return false }
        return after < before
    }

    /// One line for a check's detail: `acct-2 over 1h 0.8000 (returns 0.7000 on 25 buckets, exposure 0.6000 → 0.8000)`.
    public var summary: String {
        func text(_ v: Decimal?) -> String { v.map { AntiCorrelationDecimal.fixed($0, 4) } ?? "n/a" }
        let returns = returnCorrelation == nil ? "returns insufficient (\(overlap) buckets)" : "returns \(text(returnCorrelation)) on \(overlap) buckets"
        return "\(account) over \(window) \(text(combined)) (\(returns), exposure \(text(exposureBefore)) → \(text(exposureAfter)))"
    }
}
