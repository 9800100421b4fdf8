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

    public init(version: Int = currentVersion, takenAt: Int64, breakers: [Breaker], appliedCommands: [String],
                accountBaselines: [String: DrawdownBaseline], systemBaseline: DrawdownBaseline?, reportingAccounts: [String],
                accountEpochs: [String: Int]? = nil) {
        self.version = version
        self.takenAt = takenAt
        self.breakers = breakers
        self.appliedCommands = appliedCommands
        self.accountBaselines = accountBaselines
        self.systemBaseline = systemBaseline
        self.reportingAccounts = reportingAccounts
        self.accountEpochs = accountEpochs
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
