import TMTBase

/// A trade idea from Wyckoff analysis, before any account is involved.
public struct Signal: Codable, Sendable, Equatable {
    public var id: String
    public var instrument: String
    public var side: Side
    public var entry: Decimal
    public var stopLoss: Decimal
    public var takeProfit: Decimal
    /// 0…1.
    public var confidence: Double
    /// The pattern or event that produced it (`spring`, `upthrust`, `sos`, …).
    public var pattern: String
    /// Phase the market was judged to be in.
    public var phase: String
    /// Named pieces of evidence with their values (e.g. `volumeRatio: 2.3`).
    public var evidence: [String: String]
    /// µs since the epoch.
    public var createdAt: Int64
    /// The accounts this signal is for: nil (the default, and what older messages decode to)
    /// means every account. A staged rollout (continuous improvement) sends a parameter variant
    /// to some accounts: their signals come from the variant detector and name them, and the
    /// baseline's signals name everyone else.
    public var accounts: [String]?
    /// The experiment whose parameter variant produced this signal; nil for the baseline.
    public var experiment: String?

    public init(id: String, instrument: String, side: Side, entry: Decimal, stopLoss: Decimal, takeProfit: Decimal,
                confidence: Double, pattern: String, phase: String, evidence: [String: String], createdAt: Int64,
                accounts: [String]? = nil, experiment: String? = nil) {
        self.id = id
        self.instrument = instrument
        self.side = side
        self.entry = entry
        self.stopLoss = stopLoss
        self.takeProfit = takeProfit
        self.confidence = confidence
        self.pattern = pattern
        self.phase = phase
        self.evidence = evidence
        self.createdAt = createdAt
        self.accounts = accounts
        self.experiment = experiment
    }

    /// Whether the signal is for `accountId` (every account when `accounts` is nil).
    public func isFor(account accountId: String) -> Bool {
        accounts.map { $0.contains(accountId) } ?? true
    }

    /// Distance from entry to stop, in price units (always positive).
    public var stopDistance: Decimal {
        let d = entry - stopLoss
        return d < 0 ? -d : d
    }
}

/// How an order executes.
public enum OrderType: String, Codable, Sendable {
    case market, limit, stop
}

/// Where an order is in its life. The pipeline moves it forward only along `allowedNext`.
public enum OrderStatus: String, Codable, Sendable, CaseIterable {
    /// Sized by ARIA for one account.
    case proposed
    /// Compliance passed it (possibly with warnings).
    case approved
    /// Compliance rejected it; terminal.
    case rejected
    /// Anti-correlation let it through (possibly staggered or resized).
    case decorrelated
    /// ARIA could not size it or anti-correlation skipped it; terminal.
    case skipped
    /// Human-behaviour scheduled and released it.
    case humanized
    /// The circuit breaker cleared it for execution.
    case cleared
    /// The circuit breaker blocked it; terminal.
    case blocked
    /// A limit/stop order waiting for its price.
    case pending
    case partiallyFilled
    /// Completely filled; terminal.
    case filled
    /// Cancelled before a complete fill (e.g. margin, flatten-all); terminal.
    case cancelled
    /// Pending order that timed out; terminal.
    case expired

    public var isTerminal: Bool {
        switch self {
        case .rejected, .skipped, .blocked, .filled, .cancelled, .expired: true
        default: false
        }
    }

    /// The states this one may move to.
    public var allowedNext: Set<OrderStatus> {
        switch self {
        // ARIA can also end an order at once when it cannot size it for an account (skipped).
        case .proposed: [.approved, .rejected, .skipped]
        case .approved: [.decorrelated, .skipped]
        case .decorrelated: [.humanized, .cancelled]
        // Human behaviour cancels a queued order whose release came too late (the agent was down).
        case .humanized: [.cleared, .blocked, .cancelled]
        case .cleared: [.pending, .partiallyFilled, .filled, .cancelled]
        case .pending: [.partiallyFilled, .filled, .cancelled, .expired]
        case .partiallyFilled: [.partiallyFilled, .filled, .cancelled]
        case .rejected, .skipped, .blocked, .filled, .cancelled, .expired: []
        }
    }

    public func canMove(to next: OrderStatus) -> Bool { allowedNext.contains(next) }
}

/// One agent's verdict on an order, with the reasons; the order carries all of them.
public struct Decision: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case approved, approvedWithWarnings, modified, rejected, skipped, blocked, delayed, cleared
    }

    /// The result of one rule or check.
    public struct Check: Codable, Sendable, Equatable {
        public var rule: String
        public var passed: Bool
        /// Soft failures are warnings (e.g. lenient compliance mode).
        public var severity: String
        public var detail: String

        public init(rule: String, passed: Bool, severity: String = "hard", detail: String) {
            self.rule = rule
            self.passed = passed
            self.severity = severity
            self.detail = detail
        }
    }

    public var agent: String
    public var verdict: Verdict
    public var checks: [Check]
    /// Agent-specific figures (sizing factors, correlation, delay seconds…), as decimal strings.
    public var figures: [String: String]
    /// µs since the epoch.
    public var decidedAt: Int64

    public init(agent: String, verdict: Verdict, checks: [Check] = [], figures: [String: String] = [:], decidedAt: Int64) {
        self.agent = agent
        self.verdict = verdict
        self.checks = checks
        self.figures = figures
        self.decidedAt = decidedAt
    }
}

/// An order for one account, with the decision trail that produced it.
public struct Order: Codable, Sendable, Equatable {
    /// Deterministic: derived from the signal id and the account id.
    public var id: String
    public var signalId: String
    public var accountId: String
    public var instrument: String
    public var side: Side
    public var type: OrderType
    /// Lots.
    public var quantity: Decimal
    /// Limit/stop price; nil for market orders.
    public var price: Decimal?
    public var stopLoss: Decimal?
    public var takeProfit: Decimal?
    /// Closes or reduces an existing position; such orders pass REDUCING breaker states and are
    /// never blocked by anti-correlation.
    public var riskReducing: Bool
    public var status: OrderStatus
    public var decisions: [Decision]
    /// µs since the epoch.
    public var createdAt: Int64
    /// Earliest release an upstream agent asked for (anti-correlation's stagger), µs since the
    /// epoch; human behaviour never releases the order before it. Nil: no constraint.
    public var notBefore: Int64?
    /// The account's challenge (`Account.epoch`) the order was sized for (ARIA sets it). The
    /// execution engine cancels an order of an earlier epoch: its account was restarted after it
    /// was sized. Nil from a producer that does not know (then the engine compares the order's
    /// first hop with the restart time).
    public var accountEpoch: Int?

    public init(id: String, signalId: String, accountId: String, instrument: String, side: Side, type: OrderType,
                quantity: Decimal, price: Decimal? = nil, stopLoss: Decimal?, takeProfit: Decimal?, riskReducing: Bool = false,
                status: OrderStatus = .proposed, decisions: [Decision] = [], createdAt: Int64) {
        self.id = id
        self.signalId = signalId
        self.accountId = accountId
        self.instrument = instrument
        self.side = side
        self.type = type
        self.quantity = quantity
        self.price = price
        self.stopLoss = stopLoss
        self.takeProfit = takeProfit
        self.riskReducing = riskReducing
        self.status = status
        self.decisions = decisions
        self.createdAt = createdAt
    }

    /// The deterministic order id for a signal and an account, so redelivery reuses it.
    public static func id(signalId: String, accountId: String) -> String { "\(signalId):\(accountId)" }

    /// Moves to `next` and records the decision; throws when the lifecycle does not allow it.
    public mutating func advance(to next: OrderStatus, decision: Decision) throws {
        guard status.canMove(to: next) else {
            throw OrderLifecycleError(orderId: id, from: status, to: next)
        }
        status = next
        decisions.append(decision)
    }
}

/// A move the order lifecycle does not allow.
public struct OrderLifecycleError: Error, CustomStringConvertible, Sendable, Equatable {
    public var orderId: String
    public var from: OrderStatus
    public var to: OrderStatus
    public var description: String { "order \(orderId): cannot move from \(from.rawValue) to \(to.rawValue)" }
}

/// A (possibly partial) paper execution.
public struct Fill: Codable, Sendable, Equatable {
    public var id: String
    public var orderId: String
    public var accountId: String
    public var instrument: String
    public var side: Side
    /// Lots filled.
    public var quantity: Decimal
    /// Price after spread and slippage.
    public var price: Decimal
    /// The quote's spread at the fill, in price units.
    public var spread: Decimal
    /// Slippage against the touch, in price units (adverse is positive).
    public var slippage: Decimal
    /// Commission in account currency.
    public var commission: Decimal
    /// µs since the epoch.
    public var time: Int64

    public init(id: String, orderId: String, accountId: String, instrument: String, side: Side, quantity: Decimal,
                price: Decimal, spread: Decimal, slippage: Decimal, commission: Decimal, time: Int64) {
        self.id = id
        self.orderId = orderId
        self.accountId = accountId
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
        self.spread = spread
        self.slippage = slippage
        self.commission = commission
        self.time = time
    }
}

/// A netted position of one account in one instrument.
public struct Position: Codable, Sendable, Equatable {
    public var accountId: String
    public var instrument: String
    /// Signed lots: positive long, negative short, zero flat.
    public var quantity: Decimal
    /// Volume-weighted entry of the open quantity.
    public var averagePrice: Decimal
    /// Realised P&L in account currency, before commission.
    public var realizedPnL: Decimal
    /// Market time (µs since the epoch) of the fill that opened the position from flat or
    /// flipped it; adds keep it. Nil when flat, and when unknown (JSON from before this field).
    /// A minimum-hold rule measures from it, so a reader that starts late still knows how long
    /// the position has been held.
    public var openedAt: Int64?

    public init(accountId: String, instrument: String, quantity: Decimal = 0, averagePrice: Decimal = 0, realizedPnL: Decimal = 0,
                openedAt: Int64? = nil) {
        self.accountId = accountId
        self.instrument = instrument
        self.quantity = quantity
        self.averagePrice = averagePrice
        self.realizedPnL = realizedPnL
        self.openedAt = openedAt
    }
}

/// A paper trading account at a prop firm.
public struct Account: Codable, Sendable, Equatable {
    public var id: String
    /// The firm whose rules apply (key into the compliance configuration).
    public var firm: String
    public var currency: String
    public var initialBalance: Decimal
    /// Initial balance + realised P&L − commission.
    public var balance: Decimal
    /// Balance + open P&L.
    public var equity: Decimal
    /// Today's P&L including open P&L, since the firm's midnight.
    public var dailyPnL: Decimal
    /// Highest equity seen (for trailing drawdown).
    public var highWaterMark: Decimal
    /// Which challenge of the account this is: 0 as first created, one more at every
    /// `account.restart` (staging command), when the account starts again from its initial
    /// balance with no positions. Consumers keep per-account state per epoch: a higher epoch in
    /// an update means every figure they derived from earlier updates is void. Absent in JSON
    /// from before restarts existed: 0.
    public var epoch: Int
    /// The firm trading day (its label, e.g. `2026-11-27`) the execution engine measures
    /// `dailyPnL` in; nil until it has one (and in JSON from before this field).
    public var tradingDay: String?
    /// Equity when that day began, at the engine's roll at the firm's reset (or a staging day
    /// reset); the day's start balance is `equity − dailyPnL`. Firms that measure the daily loss
    /// from the start of day read both here, whenever their first look at the day comes. Nil
    /// when unknown.
    public var dayStartEquity: Decimal?

    public init(id: String, firm: String, currency: String = "USD", initialBalance: Decimal, epoch: Int = 0) {
        self.id = id
        self.firm = firm
        self.currency = currency
        self.initialBalance = initialBalance
        balance = initialBalance
        equity = initialBalance
        dailyPnL = 0
        highWaterMark = initialBalance
        self.epoch = epoch
    }

    enum CodingKeys: String, CodingKey {
        case id, firm, currency, initialBalance, balance, equity, dailyPnL, highWaterMark, epoch, tradingDay, dayStartEquity
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        firm = try c.decode(String.self, forKey: .firm)
        currency = try c.decode(String.self, forKey: .currency)
        initialBalance = try c.decode(Decimal.self, forKey: .initialBalance)
        balance = try c.decode(Decimal.self, forKey: .balance)
        equity = try c.decode(Decimal.self, forKey: .equity)
        dailyPnL = try c.decode(Decimal.self, forKey: .dailyPnL)
        highWaterMark = try c.decode(Decimal.self, forKey: .highWaterMark)
        epoch = try c.decodeIfPresent(Int.self, forKey: .epoch) ?? 0
        tradingDay = try c.decodeIfPresent(String.self, forKey: .tradingDay)
        dayStartEquity = try c.decodeIfPresent(Decimal.self, forKey: .dayStartEquity)
        guard epoch >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .epoch, in: c, debugDescription: "epoch must not be negative, got \(epoch)")
        }
    }

    /// Drawdown from the high-water mark, as a percentage (0…100).
    public var drawdownPercent: Decimal {
        guard highWaterMark > 0, equity < highWaterMark else { return 0 }
        return (highWaterMark - equity) / highWaterMark * 100
    }
}
