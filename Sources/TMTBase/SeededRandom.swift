import Glibc

/// A deterministic pseudo-random generator (xoshiro256**, seeded through SplitMix64): the same
/// seed gives the same sequence on every machine and Swift version, which `SystemRandomNumberGenerator`
/// does not promise. Used wherever staging data must be reproducible.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// A generator for a named sub-stream (e.g. one per instrument), independent of the others.
    public static func derived(seed: UInt64, stream: String) -> SeededRandom {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 // FNV-1a
        for b in stream.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return SeededRandom(seed: seed ^ h)
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal (Box–Muller, pairs cached).
    public mutating func normal() -> Double {
        if let z = spareNormal {
            spareNormal = nil
            return z
        }
        var u1 = uniform()
        while u1 <= .leastNormalMagnitude { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * log(u1)).squareRoot()
        spareNormal = r * sin(2 * .pi * u2)
        return r * cos(2 * .pi * u2)
    }

    /// Exponential with the given mean.
    public mutating func exponential(mean: Double) -> Double {
        var u = uniform()
        while u <= .leastNormalMagnitude { u = uniform() }
        return -log(u) * mean
    }
}
