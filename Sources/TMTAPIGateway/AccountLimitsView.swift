import TMTBase
import Synchronization
import TMTCore
import TMTTrading

/// `GET /api/v1/accounts`: each account's figures and how far it stands from its firm's daily
/// and overall loss limits (from `COMPLIANCE_CONFIG`).
///
/// Both are measured as the compliance engine measures them (`FirmLossLevels`): the day's loss
/// from the firm's day-start level (the day's start balance, equity − daily P&L, or its start
/// equity as the execution engine stored it, or the higher of the two), the overall loss from
/// the initial balance or the trailing high-water mark down to the floor.
struct AccountLimitsView {
    struct Limit {
        /// The limit in account currency (daily: the allowed loss; overall: the equity floor).
        var limit: Decimal
        /// The level the loss is measured from (daily: the day-start level; overall: the initial
        /// balance, or the high-water mark when trailing), so a page can measure a newer equity.
        var reference: Decimal
        /// The loss allowed from `reference` (daily: = `limit`; overall: reference − floor).
        var allowed: Decimal
        /// Loss counted against the limit, account currency (0 when in profit).
        var used: Decimal
        /// `used` as a percentage of the allowed loss.
        var usedPercent: Decimal
        /// The firm's warning level, percent of the limit.
        var warningPercent: Decimal
        /// `ok`, `warning` (at or past the warning level) or `breached`.
        var status: String

        func write(to w: inout JSONWriter) {
            w.beginObject()
            w.member("allowed", allowed)
            w.member("limit", limit)
            w.member("reference", reference)
            w.member("status", status)
            w.member("used", used)
            w.member("usedPercent", usedPercent)
            w.member("warningPercent", warningPercent)
            w.endObject()
        }
    }

    var id: String
    var firm: String
    var firmName: String?
    var currency: String
    var initialBalance: Decimal
    var balance: Decimal
    var equity: Decimal
    var openPnl: Decimal
    var dailyPnl: Decimal
    var realizedPnl: Decimal
    var commission: Decimal
    var highWaterMark: Decimal
    /// Drawdown from the high-water mark, percent.
    var drawdownPercent: Decimal
    var tradingDay: String?
    /// The account's challenge: 0 as created, one more per restart (`POST /api/v1/accounts/restart`).
    var epoch: Int
    /// When it was last restarted; nil if never.
    var restartedAt: Date?
    var updatedAt: Date
    /// Nil when the firm is not in the compliance configuration.
    var dailyLoss: Limit?
    var maxLoss: Limit?

    static func load(pool: PostgresPool, compliance: ComplianceConfiguration) throws -> [AccountLimitsView] {
        try pool.query("""
            SELECT id, firm, currency, initial_balance, balance, equity, daily_pnl, high_water_mark, realized_pnl, commission,
                   trading_day, day_start_equity, epoch, restarted_at, updated_at FROM accounts ORDER BY id
            """, prepared: true, retryOnConnectionLoss: true).map { row in
            var account = Account(id: try row.decode(String.self, column: "id"), firm: try row.decode(String.self, column: "firm"),
                                  currency: try row.decode(String.self, column: "currency"),
                                  initialBalance: try row.decode(Decimal.self, column: "initial_balance"))
            account.balance = try row.decode(Decimal.self, column: "balance")
            account.equity = try row.decode(Decimal.self, column: "equity")
            account.dailyPnL = try row.decode(Decimal.self, column: "daily_pnl")
            account.highWaterMark = try row.decode(Decimal.self, column: "high_water_mark")
            account.epoch = try row.decode(Int.self, column: "epoch")
            account.dayStartEquity = try row.decode(Decimal?.self, column: "day_start_equity")
            return AccountLimitsView(account, rules: compliance.rules(forFirm: account.firm),
                                     realized: try row.decode(Decimal.self, column: "realized_pnl"),
                                     commission: try row.decode(Decimal.self, column: "commission"),
                                     tradingDay: try row.decode(String?.self, column: "trading_day"),
                                     restartedAt: try row.decode(Date?.self, column: "restarted_at"),
                                     updatedAt: try row.decode(Date.self, column: "updated_at"))
        }
    }

    init(_ a: Account, rules: FirmRules?, realized: Decimal, commission: Decimal, tradingDay: String?, restartedAt: Date? = nil,
         updatedAt: Date) {
        id = a.id
        firm = a.firm
        firmName = rules?.name
        currency = a.currency
        initialBalance = a.initialBalance
        balance = a.balance
        equity = a.equity
        openPnl = a.equity - a.balance
        dailyPnl = a.dailyPnL
        realizedPnl = realized
        self.commission = commission
        highWaterMark = a.highWaterMark
        drawdownPercent = DecimalText.round(a.drawdownPercent, 4)
        self.tradingDay = tradingDay
        epoch = a.epoch
        self.restartedAt = restartedAt
        self.updatedAt = updatedAt
        guard let rules else { return }
        // The day the stored daily P&L belongs to (the engine's, on the market clock): its start
        // balance is equity − daily P&L, its start equity what the engine stored with it.
        let startBalance = a.equity - a.dailyPnL
        let start = ComplianceDayStart(day: Self.currentDay(rules), balance: startBalance, equity: a.dayStartEquity ?? startBalance,
                                       epoch: a.epoch)
        let levels = FirmLossLevels(rules: rules, account: a, dayStart: start)
        dailyLoss = Self.limit(reference: levels.dayStartLevel, allowed: levels.dailyLimit, limit: levels.dailyLimit,
                               used: max(0, levels.dailyLoss), warning: rules.dailyLossWarningPercent)
        maxLoss = Self.limit(reference: levels.maxReference, allowed: levels.maxLimit, limit: levels.maxFloor,
                             used: max(0, levels.drawdown), warning: rules.maxLossWarningPercent)
    }

    /// The JSON object in the API's conventions (members in sorted key order, nil ones left out,
    /// as `HTTPJSON.encoder` writes them), written directly: `/api/v1/accounts` is the gateway's
    /// busiest database read, and `JSONEncoder` took more of its time than the query. The member
    /// set is checked by `GatewayReadTests`; the writer's bytes against the encoder's by
    /// `JSONWriterTests`.
    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.member("balance", balance)
        w.member("commission", commission)
        w.member("currency", currency)
        if let dailyLoss { w.key("dailyLoss"); dailyLoss.write(to: &w) }
        w.member("dailyPnl", dailyPnl)
        w.member("drawdownPercent", drawdownPercent)
        w.member("epoch", Decimal(epoch))
        w.member("equity", equity)
        w.member("firm", firm)
        w.memberIfPresent("firmName", firmName)
        w.member("highWaterMark", highWaterMark)
        w.member("id", id)
        w.member("initialBalance", initialBalance)
        if let maxLoss { w.key("maxLoss"); maxLoss.write(to: &w) }
        w.member("openPnl", openPnl)
        w.member("realizedPnl", realizedPnl)
        if let restartedAt { w.member("restartedAt", restartedAt) }
        w.memberIfPresent("tradingDay", tradingDay)
        w.member("updatedAt", updatedAt)
        w.endObject()
    }

    /// The `/api/v1/accounts` body: `{"items":[…]}`.
    static func listBody(_ items: [AccountLimitsView]) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + 700 * items.count)
        w.beginObject()
        w.key("items")
        w.beginArray()
        for item in items { item.write(to: &w) }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// Each firm's current trading day, computed again once it has ended (a calendar
    /// computation per account per read was a noticeable share of `/api/v1/accounts`).
    private static let days = Locked<[String: FirmTradingDay]>([:])

    private static func currentDay(_ rules: FirmRules) -> FirmTradingDay {
        let now = Date()
        if let day = days.withLock({ $0[rules.id] }), day.contains(now) { return day }
        let day = rules.tradingDay(containing: now)
        days.withLock { $0[rules.id] = day }
        return day
    }

    private static func limit(reference: Decimal, allowed: Decimal, limit: Decimal, used: Decimal, warning: Decimal) -> Limit {
        let percent = allowed > 0 ? DecimalText.round(used / allowed * 100, 4) : 0
        let status = used > allowed ? "breached" : (percent >= warning ? "warning" : "ok")
        return Limit(limit: DecimalText.round(limit, 2), reference: DecimalText.round(reference, 2), allowed: DecimalText.round(allowed, 2),
                     used: DecimalText.round(used, 2), usedPercent: percent, warningPercent: warning, status: status)
    }
}
