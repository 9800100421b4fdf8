import TMTModels

/// What handling one `BreakerCommand` did.
public struct BreakerCommandResult: Sendable, Equatable {
    /// How the command was taken.
    public enum Outcome: String, Sendable, Equatable {
        /// Applied now.
        case applied
        /// Its id was applied before; nothing happened this time.
        case duplicate
        /// Invalid (missing operator, target or reason; flatten of an agent or instrument);
        /// nothing happened and the id is not recorded.
        case rejected
    }

    /// The command's id.
    public var commandId: String
    /// Applied, duplicate or rejected.
    public var outcome: Outcome
    /// A one-line account of what happened (or why it was rejected).
    public var message: String
    /// Breaker transitions to publish on `breaker.events`.
    public var events: [BreakerEvent]
    /// For flatten: the closing orders, already `cleared`, to publish on `orders.cleared`.
    public var orders: [Order]

    public init(commandId: String, outcome: Outcome, message: String, events: [BreakerEvent] = [], orders: [Order] = []) {
        self.commandId = commandId
        self.outcome = outcome
        self.message = message
        self.events = events
        self.orders = orders
    }
}
