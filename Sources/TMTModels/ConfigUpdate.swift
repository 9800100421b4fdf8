/// A runtime parameter change on `config.updates`: continuous improvement's rollouts and
/// operators' changes. Each service applies the updates addressed to it, validating every value;
/// an update it cannot apply goes to the DLQ with the reason instead of half-applying.
public struct ConfigUpdate: Codable, Sendable, Equatable {
    /// The service the update is for, e.g. `wyckoff-analysis`.
    public var service: String
    /// Parameter name → new value, as text (each service parses and validates its own).
    public var parameters: [String: String]
    /// Who or what asked for it (an experiment id, an operator).
    public var requestedBy: String
    /// Why, for the audit trail.
    public var reason: String
    /// The accounts the change applies to (a staged rollout); nil means service-wide.
    public var accounts: [String]?

    public init(service: String, parameters: [String: String], requestedBy: String, reason: String, accounts: [String]? = nil) {
        self.service = service
        self.parameters = parameters
        self.requestedBy = requestedBy
        self.reason = reason
        self.accounts = accounts
    }
}
