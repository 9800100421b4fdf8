import TMTBase

/// Welch's two-sample t-test (unequal variances): is the mean of `sample` different from the
/// mean of `reference`? Continuous improvement uses it to tell a shadow variant's per-trade
/// results from the baseline's.
public struct WelchTTest: Sendable, Equatable {
    /// `(mean(sample) − mean(reference)) / √(s₁²/n₁ + s₂²/n₂)`, sample variances (n − 1).
    public var t: Double
    /// Welch–Satterthwaite degrees of freedom
    /// `(s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1))`.
    public var degreesOfFreedom: Double
    /// Two-sided p-value from Student's t with `degreesOfFreedom`.
    public var pValue: Double
    /// Mean of the first sample (the variant).
    public var sampleMean: Double
    /// Mean of the second sample (the baseline).
    public var referenceMean: Double

    public init(t: Double, degreesOfFreedom: Double, pValue: Double, sampleMean: Double, referenceMean: Double) {
        self.t = t
        self.degreesOfFreedom = degreesOfFreedom
        self.pValue = pValue
        self.sampleMean = sampleMean
        self.referenceMean = referenceMean
    }

    /// Runs the test. Returns nil when it is undefined: fewer than 2 values in either sample,
    /// or both samples with zero variance (no spread to judge a difference against).
    public static func compare(_ sample: [Double], _ reference: [Double]) -> WelchTTest? {
        guard sample.count >= 2, reference.count >= 2 else { return nil }
        let (m1, v1) = meanAndVariance(sample)
        let (m2, v2) = meanAndVariance(reference)
        let n1 = Double(sample.count)
        let n2 = Double(reference.count)
        let e1 = v1 / n1
        let e2 = v2 / n2
        let standardError = (e1 + e2).squareRoot()
        guard standardError > 0 else { return nil }
        let t = (m1 - m2) / standardError
        let df = (e1 + e2) * (e1 + e2) / (e1 * e1 / (n1 - 1) + e2 * e2 / (n2 - 1))
        return WelchTTest(t: t, degreesOfFreedom: df,
                          pValue: StudentT.twoSidedPValue(t: t, degreesOfFreedom: df),
                          sampleMean: m1, referenceMean: m2)
    }

    /// Mean and unbiased (n − 1) variance, two-pass for numerical stability.
    static func meanAndVariance(_ values: [Double]) -> (mean: Double, variance: Double) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        guard values.count > 1 else { return (mean, 0) }
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, squares / (n - 1))
    }
}
