import Foundation
import TMTBase
import TMTModels
@testable import TMTTrading

/// Firms, accounts, orders and contexts for the compliance tests. The firms mirror
/// `config/compliance-staging.yml` but are written out here so a config edit does not silently
/// change what these tests prove (the config itself is tested in ComplianceConfigurationTests).
enum ComplianceFixture {
    static let utcZone = TimeZone(identifier: "UTC")!
    static let prague = ZoneInfo(identifier: "Europe/Prague")!
    static let london = ZoneInfo(identifier: "Europe/London")!
    static let newYork = ZoneInfo(identifier: "America/New_York")!

    /// 5 % daily of the initial balance from the Prague-midnight balance, 10 % static; 3 positions
    /// at most (fewer than the staging file, so the cap is easy to reach).
    static let ftmo = FirmRules(
        id: "ftmo-like", timeZone: prague, dailyLossPercent: 5, maxLossPercent: 10, maxLotsPerOrder: 20, maxOpenPositions: 3,
        newsBlackout: .init(minutes: 2), weekendCutoff: .init(time: .init(hour: 21, minute: 0)), minimumTradingDays: 4)

    /// 4 % of the higher start-of-day balance/equity, 8 % static, stop-loss required, 120 s hold,
    /// ±5 min on high and medium news, Friday 20:00 UTC cut-off flat by 20:45, best day ≤ 40 %.
    static let strict = FirmRules(
        id: "strict-4-8", timeZone: london, dailyLossPercent: 4, dailyLossBase: .startOfDay,
        dayStartReference: .higherOfBalanceAndEquity, maxLossPercent: 8, maxLotsPerOrder: 10, maxOpenPositions: 5,
        stopLossRequired: true, minimumHoldSeconds: 120, newsBlackout: .init(minutes: 5, impacts: ["high", "medium"]),
        weekendCutoff: .init(time: .init(hour: 20, minute: 0), flatBy: .init(hour: 20, minute: 45)),
        bestDayMaxPercent: 40, minimumTradingDays: 5)

    /// 3 % daily reset at 17:00 New York, 6 % trailing floor that stops at the initial balance.
    static let trailing = FirmRules(
        id: "trailing-6", timeZone: newYork, dayReset: .init(hour: 17, minute: 0), dailyLossPercent: 3, maxLossPercent: 6,
        maxLossMode: .trailing, trailingStopsAtInitialBalance: true, maxLotsPerOrder: 15, maxOpenPositions: 8,
        newsBlackout: .init(minutes: 3),
        weekendCutoff: .init(time: .init(hour: 16, minute: 0), timeZone: newYork, resumeTime: .init(hour: 17, minute: 0)),
        bestDayMaxPercent: 30, minimumTradingDays: 7)

    static let configuration = ComplianceConfiguration(firms: [ftmo, strict, trailing])

    static func engine(_ mode: ComplianceMode = .strict) -> ComplianceEngine {
        ComplianceEngine(configuration: configuration, mode: mode)
    }

    static func d(_ s: String) -> Decimal { Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))! }

    /// `yyyy-MM-dd HH:mm:ss` in UTC.
    static func utc(_ s: String) -> Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = utcZone
        let p = s.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == ":" }).map { Int($0)! }
        return cal.date(from: DateComponents(year: p[0], month: p[1], day: p[2], hour: p[3], minute: p[4], second: p[5]))!
    }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    static func account(_ rules: FirmRules, initial: String, balance: String? = nil, equity: String? = nil,
                        highWaterMark: String? = nil, id: String = "acct-1") -> Account {
        var a = Account(id: id, firm: rules.id, currency: "USD", initialBalance: d(initial))
        a.balance = d(balance ?? initial)
        a.equity = d(equity ?? balance ?? initial)
        a.highWaterMark = d(highWaterMark ?? initial)
        return a
    }

    /// A market order; `stop` in price units.
    static func order(_ side: Side, _ lots: String, _ instrument: String = "EUR_USD", stop: String?,
                      riskReducing: Bool = false, accountId: String = "acct-1") -> Order {
        Order(id: "sig-1:\(accountId)", signalId: "sig-1", accountId: accountId, instrument: instrument, side: side,
              type: .market, quantity: d(lots), stopLoss: stop.map(d), takeProfit: nil, riskReducing: riskReducing,
              createdAt: 0)
    }

    /// EUR_USD at 1.10000 on a USD account: 1 lot with a 50-pip stop (1.09500 for a buy) risks
    /// 100,000 × 0.00500 × 1 = 500.00 USD.
    static let eurUsdPricing = ComplianceContext.OrderPricing(instrument: .eurUsd, marketPrice: d("1.10000"))

    static func open(_ instrument: String, _ lots: String, at openedAt: Date, accountId: String = "acct-1") -> ComplianceContext.OpenPosition {
        ComplianceContext.OpenPosition(position: Position(accountId: accountId, instrument: instrument, quantity: d(lots),
                                                          averagePrice: d("1.10000")), openedAt: openedAt)
    }

    static func context(_ rules: FirmRules, _ account: Account, at now: Date, dayStartBalance: String? = nil,
                        dayStartEquity: String? = nil, dayStartDay: FirmTradingDay? = nil,
                        positions: [ComplianceContext.OpenPosition] = [], history: [ComplianceContext.DayResult] = [],
                        tradesToday: Int = 0, news: [NewsEvent] = [],
                        pricing: ComplianceContext.OrderPricing? = eurUsdPricing) -> ComplianceContext {
        let balance = dayStartBalance.map(d) ?? account.balance
        let start = ComplianceDayStart(day: dayStartDay ?? rules.tradingDay(containing: now), balance: balance,
                                       equity: dayStartEquity.map(d) ?? balance)
        return ComplianceContext(account: account, positions: positions, dayStart: start, history: history,
                                 tradesToday: tradesToday, news: NewsCalendar(events: news), clock: ManualClock(start: now),
                                 pricing: pricing)
    }

    /// Wednesday 2026-11-25 12:00 UTC: no weekend cut-off, no DST change.
    static let wednesdayNoon = utc("2026-11-25 12:00:00")
}

extension ComplianceDecision {
    /// Rule names of the checks that rejected the order.
    var violatedRules: [ComplianceRule] { violations.map(\.rule) }
    var warnedRules: [ComplianceRule] { warnings.map(\.rule) }

    func detail(_ rule: ComplianceRule) -> String { check(rule)?.detail ?? "<no \(rule.rawValue) check>" }
}
