import TMTBase

/// The outcome of `ProposalPolicy.decide`: whether to publish a proposal, with the figures
/// and, when not, every criterion that failed.
public struct ProposalDecision: Sendable, Equatable {
    /// True when every criterion passed and the variant should be proposed.
    public var propose: Bool
    /// Two-sided Welch p-value; nil when the test was undefined.
    public var pValue: Double?
    /// `(variant − baseline) / |baseline|` of the policy's metric; nil when undefined.
    public var relativeImprovement: Double?
    /// The full t-test, when computed from trades.
    public var test: WelchTTest?
    /// Human-readable reasons the variant was not proposed; empty when `propose`.
    public var reasons: [String]

    public init(propose: Bool, pValue: Double?, relativeImprovement: Double?, test: WelchTTest?, reasons: [String]) {
        self.propose = propose
        self.pValue = pValue
        self.relativeImprovement = relativeImprovement
        self.test = test
        self.reasons = reasons
    }
}
