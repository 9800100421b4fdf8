import TMTBase

/// Student's t distribution, computed from the regularised incomplete beta function
/// (Numerical Recipes' `betai`/`betacf`: a continued fraction evaluated with the modified
/// Lentz method), so small degrees of freedom get exact tails rather than a normal approximation.
public enum StudentT {
    /// Two-sided p-value `P(|T| ≥ |t|)` for `df` degrees of freedom (real, > 0; Welch's df is
    /// fractional). Equals `I_x(df/2, 1/2)` with `x = df / (df + t²)`. Returns 1 for `t = 0`,
    /// 0 for infinite `t`, and NaN for `df ≤ 0` or NaN input.
    public static func twoSidedPValue(t: Double, degreesOfFreedom df: Double) -> Double {
        guard df > 0, !t.isNaN, !df.isNaN else { return .nan }
        if t.isInfinite { return 0 }
        if df.isInfinite {
            // The t distribution tends to the standard normal.
            return erfc(abs(t) / 2.0.squareRoot())
        }
        let x = df / (df + t * t)
        return regularizedIncompleteBeta(a: df / 2, b: 0.5, x: x)
    }

    /// Cumulative distribution `P(T ≤ t)` for `df` degrees of freedom.
    public static func cdf(t: Double, degreesOfFreedom df: Double) -> Double {
        let tail = twoSidedPValue(t: t, degreesOfFreedom: df) / 2
        return t >= 0 ? 1 - tail : tail
    }

    /// The regularised incomplete beta function `I_x(a, b)` for `a, b > 0` and `0 ≤ x ≤ 1`
    /// (NaN outside that domain).
    public static func regularizedIncompleteBeta(a: Double, b: Double, x: Double) -> Double {
        guard a > 0, b > 0, x >= 0, x <= 1 else { return .nan }
        if x == 0 { return 0 }
        if x == 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        let front = exp(logFront)
        // The continued fraction converges fast only for x < (a+1)/(a+b+2); beyond it use the
        // symmetry I_x(a,b) = 1 − I_{1−x}(b,a).
        if x < (a + 1) / (a + b + 2) {
            return front * continuedFraction(a: a, b: b, x: x) / a
        }
        return 1 - front * continuedFraction(a: b, b: a, x: 1 - x) / b
    }

    /// The continued fraction for the incomplete beta function, by the modified Lentz method.
    static func continuedFraction(a: Double, b: Double, x: Double) -> Double {
        let maxIterations = 10_000
        let epsilon = 1e-15
        let tiny = 1e-300
        let qab = a + b
        let qap = a + 1
        let qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...maxIterations {
            let m = Double(m)
            let m2 = 2 * m
            // Even step of the recurrence.
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            // Odd step.
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }
}
