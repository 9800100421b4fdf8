import TMTBase
import TMTModels

/// The firms and staging accounts of `config/compliance-staging.yml`, validated once at start-up.
///
/// ```yaml
/// firms:
///   ftmo-like:          # see FirmRules.init(id:node:) for every key
///     ...
/// accounts:
///   - id: acct-ftmo-100k
///     firm: ftmo-like
///     initial_balance: 100000
///     currency: USD      # default USD
/// ```
public struct ComplianceConfiguration: Sendable {
    /// A paper account the staging pipeline trades, and the firm whose rules apply to it.
    public struct StagingAccount: Sendable, Equatable {
        /// Account id used as the Kafka key and in every table.
        public var id: String
        /// Key of the firm in `firms`.
        public var firm: String
        /// Starting balance in `currency`.
        public var initialBalance: Decimal
        /// ISO 4217 code of the account currency; default USD.
        public var currency: String

        public init(id: String, firm: String, initialBalance: Decimal, currency: String = "USD") {
            self.id = id
            self.firm = firm
            self.initialBalance = initialBalance
            self.currency = currency
        }

        /// A fresh account in its initial state (balance = equity = high-water mark = initial).
        public func makeAccount() -> Account {
            Account(id: id, firm: firm, currency: currency, initialBalance: initialBalance)
        }
    }

    /// Where the staging file lives, relative to the repository root.
    public static let defaultPath = "config/compliance-staging.yml"

    /// Rule sets by firm id.
    public var firms: [String: FirmRules]
    /// Staging accounts, in file order.
    public var accounts: [StagingAccount]

    /// A configuration built in code; a later firm with the same id replaces an earlier one.
    public init(firms: [FirmRules], accounts: [StagingAccount] = []) {
        self.firms = Dictionary(firms.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.accounts = accounts
    }

    /// Reads and validates a parsed document.
    public init(node: ConfigNode) throws(YAMLError) {
        try node.allowOnly(["firms", "accounts"])
        let firmsNode = try node.require("firms")
        guard case .mapping = firmsNode.node else { throw firmsNode.error("expected a mapping of firm id to rules") }
        var firms: [FirmRules] = []
        for (id, firmNode) in firmsNode.children {
            firms.append(try FirmRules(id: id, node: firmNode))
        }
        if firms.isEmpty { throw firmsNode.error("at least one firm is required") }
        let known = Set(firms.map(\.id))

        var accounts: [StagingAccount] = []
        if let list = node.child("accounts") {
            for item in try list.items() {
                try item.allowOnly(["id", "firm", "initial_balance", "currency"])
                let idNode = try item.require("id")
                let id = try idNode.asString()
                if accounts.contains(where: { $0.id == id }) { throw idNode.error("duplicate account id '\(id)'") }
                let firmNode = try item.require("firm")
                let firm = try firmNode.asString()
                guard known.contains(firm) else {
                    throw firmNode.error("unknown firm '\(firm)' (configured: \(known.sorted().joined(separator: ", ")))")
                }
                let balanceNode = try item.require("initial_balance")
                let balance = try balanceNode.asDecimal()
                guard balance > 0 else { throw balanceNode.error("must be greater than 0, got \(balance)") }
                var currency = "USD"
                if let c = item.child("currency") {
                    currency = try c.asString()
                    guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                        throw c.error("expected a three-letter ISO 4217 code like USD, got '\(currency)'")
                    }
                }
                accounts.append(StagingAccount(id: id, firm: firm, initialBalance: balance, currency: currency))
            }
        }
        self.init(firms: firms, accounts: accounts)
    }

    /// Loads and validates `path`; errors name the file, line and key.
    public static func load(path: String) throws -> ComplianceConfiguration {
        try ComplianceConfiguration(node: ConfigNode.load(path: path))
    }

    /// Parses YAML text (`file` names it in errors).
    public static func parse(_ text: String, file: String = "<string>") throws(YAMLError) -> ComplianceConfiguration {
        try ComplianceConfiguration(node: ConfigNode(file: file, node: YAMLReader.parse(text, file: file)))
    }

    /// The rules of `firm`, if configured.
    public func rules(forFirm firm: String) -> FirmRules? { firms[firm] }

    /// The staging account with `id`, if configured.
    public func account(id: String) -> StagingAccount? { accounts.first { $0.id == id } }
}
