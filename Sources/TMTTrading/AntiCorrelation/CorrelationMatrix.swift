import TMTBase

/// Account × account correlation for one window, as exported on the gauge
/// `tmt_account_correlation{a,b,window}`: each off-diagonal value is the larger of the return
/// correlation and the current exposure similarity (no order involved), 4 places; nil where
/// neither is available. Symmetric, with 1 on the diagonal.
public struct CorrelationMatrix: Sendable, Equatable {
    /// One off-diagonal cell, `a < b`.
    public struct Entry: Sendable, Equatable {
        public var a: String
        public var b: String
        public var value: Decimal
    }

    /// Window name.
    public var window: String
    /// Account ids, sorted; rows and columns follow this order.
    public var accounts: [String]
    /// `values[i][j]` for `accounts[i]`, `accounts[j]`.
    public var values: [[Decimal?]]

    public init(window: String, accounts: [String], values: [[Decimal?]]) {
        self.window = window
        self.accounts = accounts
        self.values = values
    }

    /// The value for two accounts, nil when unknown or either account is not in the matrix.
    public func value(_ a: String, _ b: String) -> Decimal? {
        guard let i = accounts.firstIndex(of: a), let j = accounts.firstIndex(of: b) else { return nil }
        return values[i][j]
    }

    /// The known off-diagonal values once per pair (`a < b`), for gauges.
    public var entries: [Entry] {
        var out: [Entry] = []
        for i in accounts.indices {
            for j in accounts.indices where j > i {
                if let v = values[i][j] { out.append(Entry(a: accounts[i], b: accounts[j], value: v)) }
            }
        }
        return out
    }
}
