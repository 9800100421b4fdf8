/// An operator command to the staging pipeline as a whole, on `staging.commands` (issued through
/// the API gateway). Each agent that keeps state for it applies it once per instance and records
/// an acknowledgement (`staging_command_acks`), which is what the gateway answers with.
public struct StagingCommand: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable, CaseIterable {
        /// Start a new trading day now for the named accounts (all when none are named), without
        /// waiting for the firm's reset: execution re-anchors the day's P&L at the current balance,
        /// compliance re-measures its daily limits from the current balance and equity, and the
        /// circuit breaker takes the current equity as the day's start and resets the account
        /// (and, for all accounts, system) breakers a drawdown tripped. Manual trips stay.
        case dayReset = "day.reset"
        /// Start the named accounts (all when none are named) again as fresh challenges: the
        /// execution engine cancels their working orders, drops their positions without fills,
        /// puts balance, equity and high-water mark back to the initial balance and raises the
        /// account's `epoch`; every agent keeping per-account state starts it again when it sees
        /// the new epoch (compliance's day start, the breaker's account breaker and baselines,
        /// anti-correlation's series), and the engine cancels orders sized for the earlier epoch
        /// (`Order.accountEpoch`; without one, orders whose trail began before the restart).
        /// Past orders and fills stay in the database for the record.
        case accountRestart = "account.restart"
    }

    /// Unique command id; each agent instance applies a command once.
    public var id: String
    public var action: Action
    /// The accounts it applies to; empty means every account.
    public var accounts: [String]
    /// Why (recorded with every acknowledgement and in the logs).
    public var reason: String
    /// Who issued it; JSON key `operator`.
    public var requestedBy: String
    /// When it was issued, µs since the epoch.
    public var issuedAt: Int64
    /// For an account restart: the epoch each account in scope reaches by it (its epoch when the
    /// command was issued + 1). The execution engine raises the epoch; the other agents
    /// acknowledge once their view of every account shows it. Empty for other actions.
    public var epochs: [String: Int]
    /// When the issuer stops waiting for acknowledgements (µs since the epoch); an agent that
    /// has to wait to acknowledge (an account restart) gives up then. Nil: the agent's default.
    public var deadline: Int64?

    public init(id: String, action: Action, accounts: [String] = [], reason: String, requestedBy: String, issuedAt: Int64,
                epochs: [String: Int] = [:], deadline: Int64? = nil) {
        self.id = id
        self.action = action
        self.accounts = accounts
        self.reason = reason
        self.requestedBy = requestedBy
        self.issuedAt = issuedAt
        self.epochs = epochs
        self.deadline = deadline
    }

    enum CodingKeys: String, CodingKey {
        case id, action, accounts, reason
        case requestedBy = "operator"
        case issuedAt, epochs, deadline
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        action = try c.decode(Action.self, forKey: .action)
        accounts = try c.decode([String].self, forKey: .accounts)
        reason = try c.decode(String.self, forKey: .reason)
        requestedBy = try c.decode(String.self, forKey: .requestedBy)
        issuedAt = try c.decode(Int64.self, forKey: .issuedAt)
        epochs = try c.decodeIfPresent([String: Int].self, forKey: .epochs) ?? [:]
        deadline = try c.decodeIfPresent(Int64.self, forKey: .deadline)
    }

    /// Whether `account` is in scope.
    public func applies(to account: String) -> Bool { accounts.isEmpty || accounts.contains(account) }
}

extension StagingCommand {
    /// `items` joined with ", ", the first `limit` of them and "… and N more" (acknowledgements
    /// stay one readable line when a command covers every account of a busy database).
    public static func list(_ items: [String], limit: Int = 10) -> String {
        items.count <= limit ? items.joined(separator: ", ")
            : items.prefix(limit).joined(separator: ", ") + " … and \(items.count - limit) more"
    }
}
