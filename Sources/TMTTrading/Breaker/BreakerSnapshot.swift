import TMTBase

/// Everything the circuit breaker must not forget across a restart, as JSON for Redis: every
/// breaker (state, timers, trip counts), the applied command ids, the accepted drawdown
/// baselines and the accounts that have reported.
///
/// Restoring keeps the states (a trip survives a restart) but marks every breaker as awaiting
/// data, so trading is HALTED until fresh figures confirm each one (fail closed).
public struct BreakerSnapshot: Codable, Sendable, Equatable {
    /// The format version this code writes and reads.
    public static let currentVersion = 1

    /// Format version.
    public var version: Int
    /// When taken, µs since the epoch.
    public var takenAt: Int64
    /// Every breaker, sorted by key.
    public var breakers: [Breaker]
    /// Applied command ids, oldest first (bounded; see `CircuitBreaker.commandMemory`).
    public var appliedCommands: [String]
    /// Accepted account drawdown baselines by account id.
    public var accountBaselines: [String: DrawdownBaseline]
    /// Accepted system drawdown baseline.
    public var systemBaseline: DrawdownBaseline?
    /// Accounts that have reported figures; the system drawdown waits for all of them again.
    public var reportingAccounts: [String]
    /// The challenge (`Account.epoch`) of each account's figures, so an account restarted while
    /// the breaker was down is recognised when its first update arrives. Absent in snapshots
    /// from before restarts existed.
    public var accountEpochs: [String: Int]?
    /// What the system breaker and the critical agents allow every account when the snapshot was
    /// taken (the breaker saves one at every transition). For readers; not restored. Absent in
    /// snapshots from before it existed.
    public var systemTrading: SystemTrading?

    public init(version: Int = currentVersion, takenAt: Int64, breakers: [Breaker], appliedCommands: [String],
                accountBaselines: [String: DrawdownBaseline], systemBaseline: DrawdownBaseline?, reportingAccounts: [String],
                accountEpochs: [String: Int]? = nil, systemTrading: SystemTrading? = nil) {
        self.version = version
        self.takenAt = takenAt
        self.breakers = breakers
        self.appliedCommands = appliedCommands
        self.accountBaselines = accountBaselines
        self.systemBaseline = systemBaseline
        self.reportingAccounts = reportingAccounts
        self.accountEpochs = accountEpochs
        self.systemTrading = systemTrading
    }

    /// Stable JSON (sorted keys).
    public func encoded() throws(TMTError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(self)) } catch {
            throw TMTError(.encoding, "cannot encode breaker snapshot: \(error)")
        }
    }

    /// Decodes a snapshot, refusing versions this code does not know.
    public static func decode(_ bytes: [UInt8]) throws(TMTError) -> BreakerSnapshot {
        let snapshot: BreakerSnapshot
        do { snapshot = try JSONDecoder().decode(BreakerSnapshot.self, from: Data(bytes)) } catch {
            throw TMTError(.decoding, "cannot decode breaker snapshot: \(error)")
        }
        guard snapshot.version == currentVersion else {
            throw TMTError(.decoding, "breaker snapshot version \(snapshot.version) is not supported (expected \(currentVersion))")
        }
        return snapshot
    }
}

/// The trading state every account shares (the system breaker and the critical agents) and why.
public struct SystemTrading: Codable, Sendable, Equatable {
    public var state: TradingState
    /// The restricting breakers' details, system first; empty when ACTIVE.
    public var reasons: [String]

    public init(state: TradingState, reasons: [String]) {
        self.state = state
        self.reasons = reasons
    }
}
