import TMTBase

/// How strictly soft rules are enforced (`COMPLIANCE_MODE`).
public enum ComplianceMode: String, Sendable, CaseIterable {
    /// Soft rules reject (the default).
    case strict
    /// Soft rule failures become warnings; the loss limits and max lots still reject.
    case lenient

    /// The environment variable that selects the mode.
    public static let environmentKey = "COMPLIANCE_MODE"

    /// Reads `COMPLIANCE_MODE` (`strict` or `lenient`, any case; unset means strict). Any other
    /// value stops start-up rather than silently falling back.
    public init(environment: Environment) throws {
        guard let raw = environment.string(Self.environmentKey) else {
            self = .strict
            return
        }
        guard let mode = ComplianceMode(rawValue: raw.trimmingWhitespace().lowercased()) else {
            throw TMTError(.configuration, "environment variable \(Self.environmentKey): expected strict or lenient, got '\(raw)'")
        }
        self = mode
    }
}
