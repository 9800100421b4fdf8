import TMTBase
import TMTModels

/// Everything one engine call decided, ready to be written in one transaction: the order's new
/// state and status transitions, the fills, the position and the ledger after them, the account
/// deltas, and the decision with its figures.
///
/// When `changed` is false nothing needs writing (the order is still waiting for its arrival,
/// or a pending order's price was not reached again).
public struct ExecutionResult: Sendable, Equatable {
    /// One status move, always one the order lifecycle allows.
    public struct Transition: Codable, Sendable, Equatable {
        public var from: OrderStatus
        public var to: OrderStatus

        public init(from: OrderStatus, to: OrderStatus) {
            self.from = from
            self.to = to
        }
    }

    /// What this call did to the account's money.
    public struct AccountDelta: Codable, Sendable, Equatable {
        /// Σ realised P&L booked by this call's fills.
        public var realizedPnL: Decimal
        /// Σ commission charged by this call's fills.
        public var commission: Decimal
        public var balanceBefore: Decimal
        /// balanceBefore + realizedPnL − commission, exactly.
        public var balanceAfter: Decimal

        public init(realizedPnL: Decimal, commission: Decimal, balanceBefore: Decimal, balanceAfter: Decimal) {
            self.realizedPnL = realizedPnL
            self.commission = commission
            self.balanceBefore = balanceBefore
            self.balanceAfter = balanceAfter
        }

        /// No money moved.
        public static func none(balance: Decimal) -> AccountDelta {
            AccountDelta(realizedPnL: 0, commission: 0, balanceBefore: balance, balanceAfter: balance)
        }
    }

    /// The order after this call (status, filled quantity, decisions appended).
    public var order: WorkingOrder
    /// What happened.
    public var outcome: ExecutionOutcome
    /// Status moves in order (e.g. cleared → partiallyFilled → cancelled for an IOC remainder);
    /// empty when the status did not change.
    public var transitions: [Transition]
    /// Fills of this call, in sequence.
    public var fills: [BookedFill]
    /// The order's instrument position after this call.
    public var position: Position
    /// The account ledger after this call; the caller keeps it for the next call.
    public var ledger: AccountLedger
    /// Money moved by this call.
    public var accountDelta: AccountDelta
    /// The margin check, when one was made.
    public var margin: MarginCheck?
    /// The decision appended to the order (agent `execution-engine`), nil when nothing changed.
    public var decision: Decision?
    /// When to call the engine again for this order even if no tick arrives (µs on the market
    /// clock): the quote-wait bound of a waiting order or the expiry of a working one. Nil when
    /// the order is done or only a tick can move it.
    public var nextCheckAt: Int64?

    public init(order: WorkingOrder, outcome: ExecutionOutcome, transitions: [Transition], fills: [BookedFill],
                position: Position, ledger: AccountLedger, accountDelta: AccountDelta, margin: MarginCheck?,
                decision: Decision?, nextCheckAt: Int64?) {
        self.order = order
        self.outcome = outcome
        self.transitions = transitions
        self.fills = fills
        self.position = position
        self.ledger = ledger
        self.accountDelta = accountDelta
        self.margin = margin
        self.decision = decision
        self.nextCheckAt = nextCheckAt
    }

    /// Whether anything needs persisting or publishing.
    public var changed: Bool { decision != nil }
}
