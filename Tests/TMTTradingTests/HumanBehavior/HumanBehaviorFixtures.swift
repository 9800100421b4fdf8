import Foundation
import TMTModels
@testable import TMTTrading

/// A London trader: 08:00–17:00, lunch 12:30–13:15, 90 min active then a 5 min break,
/// 10 min warm-up starting at ×2, median delay 4 s, likes 0.05 lots.
enum HumanFixtures {
    static let london = HumanPersonality(accountId: "acct-london", medianDelaySeconds: 4, delaySpread: 0.5,
                                         timeZoneIdentifier: "Europe/London", sessionStartMinute: 480, sessionEndMinute: 1020,
                                         lunchStartMinute: 750, lunchMinutes: 45, activeMinutesBeforeBreak: 90,
                                         shortBreakMinutes: 5, warmUpMinutes: 10, warmUpFactor: 2, roundingStep: Decimal(string: "0.05")!)

    static func scheduler(scale: Double = 1, maxHold: Double = 57_600, personality: HumanPersonality = london,
                          seed: UInt64 = 7) throws -> HumanScheduler {
        let configuration = HumanBehaviorConfiguration(seed: seed, delayScale: scale, maxHoldSeconds: maxHold)
        return try HumanScheduler(configuration: configuration, personalities: [personality.accountId: personality])
    }

    static func order(_ id: String = "sig-1:acct-london", account: String = "acct-london", instrument: String = "EUR_USD",
                      quantity: String = "1.37", riskReducing: Bool = false) -> Order {
        Order(id: id, signalId: "sig-1", accountId: account, instrument: instrument, side: .buy, type: .market,
              quantity: Decimal(string: quantity)!, stopLoss: nil, takeProfit: nil, riskReducing: riskReducing,
              status: .decorrelated, createdAt: 0)
    }

    /// An instant given as UTC text, e.g. `2026-01-14T03:00:00Z` (London is on UTC in January).
    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1e6).rounded()) }
    static func micros(seconds: Double) -> Int64 { Int64((seconds * 1e6).rounded()) }
}
