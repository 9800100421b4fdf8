import TMTBase
import Synchronization
import TMTCore

/// Every account's latest state and open positions, as the execution engine publishes them on
/// `accounts.updates` and `positions.updates`, seeded from the trading database at start-up. Each
/// process reads both topics in a group of its own (every instance needs every account).
public final class AccountBook: Sendable {
    /// An open position and when it went from flat to non-zero.
    public struct OpenPosition: Sendable, Equatable {
        public var position: Position
        public var openedAt: Date

        public init(position: Position, openedAt: Date) {
            self.position = position
            self.openedAt = openedAt
        }
    }

    private let accounts: Locked<[String: Account]>
    private let positions: Locked<[String: [String: OpenPosition]]>
    private let consumer: KafkaConsumer
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - initial: the accounts as stored; `positions`: their open positions as stored. Both
    ///     stand until the topics say otherwise, so what the topics no longer retain is known.
    ///   - now: the time a position is recorded as opened at when its update does not say
    ///     (`Position.openedAt` absent: JSON from before that field); e.g. the market clock, so a
    ///     minimum-hold rule compares like with like. Default the wall clock.
    public init(initial: [Account], positions: [Position] = [], kafka: KafkaConfiguration, service: String, instanceId: String,
                deadLetterProducer: KafkaProducer, metrics: MetricsRegistry, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.now = now
        accounts = Locked(Dictionary(initial.map { ($0.id, $0) }, uniquingKeysWith: { _, b in b }))
        var held: [String: [String: OpenPosition]] = [:]
        let started = now()
        for p in positions where p.quantity != 0 {
            held[p.accountId, default: [:]][p.instrument] = OpenPosition(position: p, openedAt: p.openedAt.map(Date.init(micros:)) ?? started)
        }
        self.positions = Locked(held)
        consumer = try KafkaConsumer(configuration: kafka.forDataPlane(), groupId: "\(service)-state-\(instanceId)",
                                     topics: [Topic.accountsUpdates.name, Topic.positionsUpdates.name],
                                     deadLetterProducer: deadLetterProducer, metrics: metrics, logger: logger)
    }

    public func start() throws {
        try consumer.start { [self] message in try apply(message) }
    }

    public func stop() { consumer.stop(timeout: 10) }

    public func account(_ id: String) -> Account? { accounts.withLock { $0[id] } }
    public var allAccounts: [Account] { accounts.withLock { Array($0.values) }.sorted { $0.id < $1.id } }
    public func openPositions(_ accountId: String) -> [OpenPosition] {
        positions.withLock { Array(($0[accountId] ?? [:]).values) }.sorted { $0.position.instrument < $1.position.instrument }
    }

    private func apply(_ message: KafkaMessage) throws {
        if message.topic == Topic.accountsUpdates.name {
            let account = try KafkaConsumer.decodeEnvelope(Account.self, from: message).payload
            // An update of an earlier challenge (lower epoch) than the one held is from before the
            // account's restart: ignored. (Its positions are not cleared here: the engine
            // publishes a flat update for each, in order with the account's other positions, and
            // a new challenge's first position may be read before its account update.)
            accounts.withLock { all in
                if let held = all[account.id], account.epoch < held.epoch { return }
                all[account.id] = account
            }
            return
        }
        let position = try KafkaConsumer.decodeEnvelope(Position.self, from: message).payload
        positions.withLock { all in
            var mine = all[position.accountId, default: [:]]
            if position.quantity == 0 {
                mine[position.instrument] = nil
            } else if let opened = position.openedAt {
                mine[position.instrument] = OpenPosition(position: position, openedAt: Date(micros: opened))
            } else if let old = mine[position.instrument], old.position.quantity.sign == position.quantity.sign {
                mine[position.instrument] = OpenPosition(position: position, openedAt: old.openedAt)
            } else {
                mine[position.instrument] = OpenPosition(position: position, openedAt: now())
            }
            all[position.accountId] = mine
        }
    }
}
