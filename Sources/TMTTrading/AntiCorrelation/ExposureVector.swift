import TMTBase

/// An account's signed notional per instrument in one common currency (positive long, negative
/// short). Two accounts holding the same instruments in the same proportions and directions
/// point the same way, whatever their sizes; their cosine similarity is 1.
public struct ExposureVector: Sendable, Equatable {
    /// Signed notional per instrument symbol, common currency. Zero entries are dropped.
    public private(set) var notional: [String: Decimal]

    public init(_ notional: [String: Decimal] = [:]) {
        self.notional = notional.filter { $0.value != 0 }
    }

    /// True when the account holds nothing.
    public var isEmpty: Bool { notional.isEmpty }

    /// This vector with `amount` (signed, common currency) added to `instrument`.
    public func adding(_ amount: Decimal, to instrument: String) -> ExposureVector {
        var copy = notional
        copy[instrument, default: 0] += amount
        return ExposureVector(copy)
    }

    /// Cosine similarity a·b / (|a| |b|) in −1…1; nil when either vector is empty (an account
    /// with no exposure is neither alike nor unlike another).
    public func cosineSimilarity(with other: ExposureVector) -> Double? {
        guard !isEmpty, !other.isEmpty else { return nil }
        var dot = 0.0, aa = 0.0, bb = 0.0
        for (symbol, value) in notional {
            let a = DecimalMath.double(value)
            aa += a * a
            if let o = other.notional[symbol] { dot += a * DecimalMath.double(o) }
        }
        for value in other.notional.values {
            let b = DecimalMath.double(value)
            bb += b * b
        }
        guard aa > 0, bb > 0 else { return nil }
        return max(-1, min(1, dot / (aa * bb).squareRoot()))
    }
}
