import TMTBase

/// Rounds a proposed size to one a person would type: 1.35 lots rather than 1.37.
///
/// Never rounds up: the size is floored to a multiple of a "nice" step, so the risk taken is
/// never above what sizing proposed. The trader's habit is their coarsest step; a step is used
/// only if it is a whole multiple of the instrument's lot step (0.05 is not on US30's 0.1 grid)
/// and it takes off at most `maxLossFraction` of the size, otherwise the next finer nice step is
/// tried, ending with the lot step itself (always accepted). A size that would floor below one
/// lot step is returned unchanged: it is below the tradable minimum already, and rounding up
/// would add risk.
public enum HumanSizeRounding {
    /// A rounding outcome.
    public struct Result: Sendable, Equatable {
        /// The proposed size. Unit: lots.
        public var from: Decimal
        /// The rounded size (≤ `from`). Unit: lots.
        public var to: Decimal
        /// The step used, or nil when the size was left unchanged.
        public var step: Decimal?
    }

    /// `quantity` floored to the coarsest acceptable nice step (see the type's documentation).
    /// - Parameters:
    ///   - quantity: proposed size in lots.
    ///   - lotStep: the instrument's smallest tradable step (e.g. 0.01, 0.1 for US30).
    ///   - habitStep: the personality's coarsest liked step.
    ///   - niceSteps: the nice steps a person might use; finer fallbacks are taken from here.
    ///   - maxLossFraction: most a rounding may take off the size (0…1).
    public static func round(_ quantity: Decimal, lotStep: Decimal, habitStep: Decimal, niceSteps: [Decimal],
                             maxLossFraction: Decimal) -> Result {
        guard quantity > 0, lotStep > 0 else { return Result(from: quantity, to: quantity, step: nil) }
        let candidates = Set(niceSteps.filter { $0 <= habitStep && $0 >= lotStep && isMultiple($0, of: lotStep) } + [lotStep])
            .sorted(by: >)
        for step in candidates {
            let rounded = RiskDecimal.floor(quantity, step: step)
            guard rounded >= lotStep else { continue }
            if step == lotStep || (quantity - rounded) <= quantity * maxLossFraction {
                return Result(from: quantity, to: rounded, step: step)
            }
        }
        return Result(from: quantity, to: quantity, step: nil)
    }

    private static func isMultiple(_ step: Decimal, of lotStep: Decimal) -> Bool {
        let ratio = RiskDecimal.snap(step / lotStep)
        return ratio == RiskDecimal.round(ratio, 0, .down)
    }
}
