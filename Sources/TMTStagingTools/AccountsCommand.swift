/// The body of the gateway's account commands, `POST /api/v1/day/reset` and
/// `POST /api/v1/accounts/restart`: the accounts (all of them when nil) and the operator's reason.
public struct AccountsCommand: Encodable, Sendable {
    public var accounts: [String]?
    public var reason: String

    public init(accounts: [String]?, reason: String) {
        self.accounts = accounts
        self.reason = reason
    }
}
