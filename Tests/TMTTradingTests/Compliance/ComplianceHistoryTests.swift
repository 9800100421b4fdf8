import Foundation
import TMTBase
import TMTModels
@testable import TMTTrading
import XCTest

/// `ComplianceHistory.days`: fills grouped by the firm's own trading day, net of commission,
/// orders counted once, today kept apart.
final class ComplianceHistoryTests: XCTestCase {
    typealias F = ComplianceFixture

    func testGroupsFillsByTheFirmsDayNetOfCommissionAndKeepsTodayApart() {
        // trailing-6 resets at 17:00 New York (22:00 UTC in November): 21:59 UTC belongs to the
        // day labelled with its own date, 22:01 UTC to the next one.
        let rules = F.trailing
        let now = F.utc("2026-11-26 15:00:00")
        let today = rules.tradingDay(containing: now)
        XCTAssertEqual(today.label, "2026-11-26")
        let fills: [ComplianceHistory.Fill] = [
            .init(orderId: "o1", filledAt: F.utc("2026-11-24 21:59:00"), realizedPnL: F.d("120.50"), commission: F.d("3.50")),
            .init(orderId: "o1", filledAt: F.utc("2026-11-24 21:59:30"), realizedPnL: F.d("10"), commission: F.d("0.50")), // same order, second fill
            .init(orderId: "o2", filledAt: F.utc("2026-11-24 22:01:00"), realizedPnL: F.d("-40"), commission: F.d("2")),
            .init(orderId: "o3", filledAt: F.utc("2026-11-25 09:00:00"), realizedPnL: F.d("0"), commission: F.d("1")),   // an opening fill
            .init(orderId: "o4", filledAt: F.utc("2026-11-26 08:00:00"), realizedPnL: F.d("55"), commission: F.d("1")),  // today
            .init(orderId: "o5", filledAt: F.utc("2026-11-26 14:00:00"), realizedPnL: F.d("5"), commission: F.d("1")),   // today
            .init(orderId: "o6", filledAt: F.utc("2026-11-27 23:00:00"), realizedPnL: F.d("999"), commission: F.d("0")), // after today: ignored
        ]
        let (history, tradesToday) = ComplianceHistory.days(of: fills, rules: rules, today: today)
        XCTAssertEqual(history, [
            .init(day: "2026-11-24", realizedPnL: F.d("126.50"), trades: 1),
            .init(day: "2026-11-25", realizedPnL: F.d("-43"), trades: 2),
        ])
        XCTAssertEqual(tradesToday, 2)
    }

    func testTheConsistencyRuleSeesEarlierDays() throws {
        // strict-4-8: best day ≤ 40 % of total profit. Today +300 on an account that made +1,000
        // on earlier days is 23 % of 1,300: new risk is allowed. Without the history today's
        // profit would be 100 % of the total and every new order rejected.
        let rules = F.strict
        let now = F.utc("2026-11-26 10:00:00")
        let today = rules.tradingDay(containing: now)
        let fills: [ComplianceHistory.Fill] = [
            .init(orderId: "a", filledAt: F.utc("2026-11-23 10:00:00"), realizedPnL: F.d("600"), commission: 0),
            .init(orderId: "b", filledAt: F.utc("2026-11-24 10:00:00"), realizedPnL: F.d("400"), commission: 0),
        ]
        let (history, tradesToday) = ComplianceHistory.days(of: fills, rules: rules, today: today)
        var account = F.account(rules, initial: "100000", balance: "101300")
        account.equity = F.d("101300")
        let dayStart = ComplianceDayStart(day: today, balance: F.d("101000"), equity: F.d("101000"))
        let order = Order(id: "o", signalId: "s", accountId: account.id, instrument: "EUR_USD", side: .buy, type: .market,
                          quantity: F.d("0.10"), stopLoss: F.d("1.08"), takeProfit: F.d("1.09"), createdAt: F.micros(now))
        func consistency(_ history: [ComplianceContext.DayResult]) -> ComplianceCheck? {
            let context = ComplianceContext(account: account, dayStart: dayStart, history: history, tradesToday: tradesToday,
                                            clock: ManualClock(start: now), pricing: nil)
            return F.engine().evaluate(order: order, context: context).checks.first { $0.rule == .consistency }
        }
        let withHistory = try XCTUnwrap(consistency(history))
        XCTAssertTrue(withHistory.passed, withHistory.detail)
        XCTAssertTrue(withHistory.detail.contains("1300.00") || withHistory.detail.contains("1,300.00"), withHistory.detail)
        let withoutHistory = try XCTUnwrap(consistency([]))
        XCTAssertFalse(withoutHistory.passed, "the defect this history fixes: \(withoutHistory.detail)")

        // Today's realised P&L given exactly (the agent: balance − initial − earlier days): a
        // baseline taken after a take-profit booked this morning would read today as 0.
        var late = ComplianceContext(account: account, dayStart: ComplianceDayStart(day: today, balance: F.d("101300"), equity: F.d("101300")),
                                     history: history, tradesToday: tradesToday, clock: ManualClock(start: now), pricing: nil)
        let blind = F.engine().evaluate(order: order, context: late).checks.first { $0.rule == .consistency }
        XCTAssertTrue(blind?.detail.contains("1000.00") == true || blind?.detail.contains("1,000.00") == true, blind?.detail ?? "")
        late.realizedToday = F.d("300")
        let exact = try XCTUnwrap(F.engine().evaluate(order: order, context: late).checks.first { $0.rule == .consistency })
        XCTAssertTrue(exact.detail.contains("1300.00") || exact.detail.contains("1,300.00"), exact.detail)
    }
}
