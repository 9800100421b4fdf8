import Foundation
import XCTest
import TMTBase
import TMTModels
@testable import TMTTrading

/// Loading `config/compliance-staging.yml` and rejecting bad configuration with file:line:key.
final class ComplianceConfigurationTests: XCTestCase {
    typealias F = ComplianceFixture

    /// The repository's staging file, found from this source file's location.
    static let stagingFile: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(ComplianceConfiguration.defaultPath).path

    func testStagingFileLoadsThreeFirmsAndOneAccountPerFirm() throws {
        let config = try ComplianceConfiguration.load(path: Self.stagingFile)
        XCTAssertEqual(Set(config.firms.keys), ["ftmo-like", "strict-4-8", "trailing-6"])

        let ftmo = try XCTUnwrap(config.firms["ftmo-like"])
        XCTAssertEqual(ftmo.timeZone.identifier, "Europe/Prague")
        XCTAssertEqual(ftmo.dayReset, .midnight)
        XCTAssertEqual(ftmo.dailyLossPercent, 5)
        XCTAssertEqual(ftmo.dailyLossBase, .initialBalance)
        XCTAssertEqual(ftmo.maxLossPercent, 10)
        XCTAssertEqual(ftmo.maxLossMode, .static)
        XCTAssertEqual(ftmo.newsBlackout, .init(minutes: 2, impacts: ["high"]))
        XCTAssertEqual(ftmo.weekendCutoff?.weekday, 6)
        XCTAssertEqual(ftmo.weekendCutoff?.time, .init(hour: 21, minute: 0))
        XCTAssertNil(ftmo.bestDayMaxPercent)
        XCTAssertEqual(ftmo.dailyLossWarningPercent, 80)
        XCTAssertEqual(ftmo.maxLossWarningPercent, 90)

        let strict = try XCTUnwrap(config.firms["strict-4-8"])
        XCTAssertEqual(strict.dailyLossPercent, 4)
        XCTAssertEqual(strict.maxLossPercent, 8)
        XCTAssertTrue(strict.stopLossRequired)
        XCTAssertEqual(strict.minimumHoldSeconds, 120)
        XCTAssertEqual(strict.dayStartReference, .higherOfBalanceAndEquity)
        XCTAssertEqual(strict.newsBlackout?.impacts, ["high", "medium"])
        XCTAssertEqual(strict.weekendCutoff?.flatBy, .init(hour: 20, minute: 45))
        XCTAssertEqual(strict.bestDayMaxPercent, 40)

        let trailing = try XCTUnwrap(config.firms["trailing-6"])
        XCTAssertEqual(trailing.maxLossMode, .trailing)
        XCTAssertEqual(trailing.maxLossPercent, 6)
        XCTAssertTrue(trailing.trailingStopsAtInitialBalance)
        XCTAssertEqual(trailing.dayReset, .init(hour: 17, minute: 0))
        XCTAssertEqual(trailing.timeZone.identifier, "America/New_York")

        for firm in config.firms.values {
            XCTAssertTrue((2...5).contains(firm.newsBlackout?.minutes ?? 0), "\(firm.id) blackout")
            XCTAssertNotNil(firm.weekendCutoff, "\(firm.id) cut-off")
            XCTAssertGreaterThan(firm.maxLotsPerOrder, 0)
            XCTAssertGreaterThan(firm.maxOpenPositions, 0)
        }
        XCTAssertEqual(config.accounts.count, 3)
        XCTAssertEqual(Set(config.accounts.map(\.firm)), Set(config.firms.keys))
        XCTAssertEqual(config.account(id: "acct-ftmo-100k")?.initialBalance, 100_000)
        XCTAssertEqual(config.account(id: "acct-ftmo-100k")?.currency, "USD")
    }

    func testEveryStagingAccountCanTradeAFreshOrderUnderItsFirm() throws {
        // A fresh account, 1 lot EUR_USD with a 50-pip stop (500 USD) on a quiet Wednesday:
        // within every firm's limits (smallest daily limit: 3 % of 50,000 = 1,500).
        let config = try ComplianceConfiguration.load(path: Self.stagingFile)
        let engine = ComplianceEngine(configuration: config)
        for staging in config.accounts {
            let account = staging.makeAccount()
            let rules = try XCTUnwrap(config.rules(forFirm: staging.firm))
            let order = F.order(.buy, "1", stop: "1.09500", accountId: account.id)
            let context = ComplianceContext(account: account, dayStart: .fresh(at: F.wednesdayNoon, rules: rules, account: account),
                                            clock: ManualClock(start: F.wednesdayNoon), pricing: F.eurUsdPricing)
            let decision = engine.evaluate(order: order, context: context)
            XCTAssertEqual(decision.verdict, .approved, "\(staging.id): \(decision.rejectionReason ?? "")")
        }
    }

    // MARK: - Errors name file, line and key

    private let valid = """
    firms:
      f1:
        timezone: Europe/Prague
        daily_loss:
          percent: 5
        max_loss:
          percent: 10
        max_lots_per_order: 20
        max_open_positions: 5
    accounts:
      - id: a1
        firm: f1
        initial_balance: 100000
    """

    private func assertError(_ text: String, line: Int, key: String, message: String,
                             file: StaticString = #filePath, testLine: UInt = #line) {
        XCTAssertThrowsError(try ComplianceConfiguration.parse(text, file: "compliance.yml"), file: file, line: testLine) { error in
            guard let e = error as? YAMLError else { return XCTFail("not a YAMLError: \(error)", file: file, line: testLine) }
            XCTAssertEqual(e.file, "compliance.yml", file: file, line: testLine)
            XCTAssertEqual(e.line, line, "\(e)", file: file, line: testLine)
            XCTAssertEqual(e.key, key, "\(e)", file: file, line: testLine)
            XCTAssertTrue(e.message.contains(message), "\(e)", file: file, line: testLine)
        }
    }

    func testMinimalValidDocumentUsesDefaults() throws {
        let config = try ComplianceConfiguration.parse(valid, file: "compliance.yml")
        let f1 = try XCTUnwrap(config.firms["f1"])
        XCTAssertEqual(f1.name, "f1")
        XCTAssertFalse(f1.stopLossRequired)
        XCTAssertNil(f1.newsBlackout)
        XCTAssertEqual(f1.dayStartReference, .balance)
        XCTAssertEqual(f1.minimumHoldSeconds, 0)
        XCTAssertEqual(config.accounts, [.init(id: "a1", firm: "f1", initialBalance: 100_000, currency: "USD")])
    }

    func testUnknownKeyNamesFileLineAndKey() {
        let text = valid.replacingOccurrences(of: "    max_open_positions: 5", with: "    max_open_position: 5")
        assertError(text, line: 9, key: "firms.f1.max_open_position", message: "unknown key")
        XCTAssertThrowsError(try ComplianceConfiguration.parse(text, file: "compliance.yml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("compliance.yml:9: key 'firms.f1.max_open_position': unknown key"), "\(error)")
        }
    }

    func testBadNumberNamesFileLineAndKey() {
        assertError(valid.replacingOccurrences(of: "percent: 5", with: "percent: 5%"), line: 5,
                    key: "firms.f1.daily_loss.percent", message: "expected a decimal number, got '5%'")
        assertError(valid.replacingOccurrences(of: "percent: 10", with: "percent: 150"), line: 7,
                    key: "firms.f1.max_loss.percent", message: "expected a percentage in (0, 100], got 150")
        assertError(valid.replacingOccurrences(of: "max_open_positions: 5", with: "max_open_positions: five"), line: 9,
                    key: "firms.f1.max_open_positions", message: "expected an integer, got 'five'")
        assertError(valid.replacingOccurrences(of: "initial_balance: 100000", with: "initial_balance: -5"), line: 13,
                    key: "accounts[0].initial_balance", message: "must be greater than 0")
    }

    func testBadValuesNameTheirKey() {
        assertError(valid.replacingOccurrences(of: "Europe/Prague", with: "Europe/Praha"), line: 3,
                    key: "firms.f1.timezone", message: "unknown time zone 'Europe/Praha'")
        assertError(valid.replacingOccurrences(of: "firm: f1", with: "firm: f2"), line: 12,
                    key: "accounts[0].firm", message: "unknown firm 'f2'")
        assertError(valid.replacingOccurrences(of: "    max_lots_per_order: 20\n", with: "    max_lots_per_order: 20\n    friday_cutoff:\n      time: 9pm\n"),
                    line: 10, key: "firms.f1.friday_cutoff.time", message: "expected a time HH:MM, got '9pm'")
        assertError(valid.replacingOccurrences(of: "      percent: 10\n", with: "      percent: 10\n      mode: trailng\n"), line: 8,
                    key: "firms.f1.max_loss.mode", message: "expected one of static, trailing, got 'trailng'")
        assertError(valid.replacingOccurrences(of: "    max_open_positions: 5\n", with: "    max_open_positions: 5\n    news_blackout:\n      minutes: 2\n      impacts: [high]\n"),
                    line: 12, key: "firms.f1.news_blackout.impacts", message: "flow collections")
        // A missing key is reported at the first line of its mapping.
        assertError(valid.replacingOccurrences(of: "    max_lots_per_order: 20\n", with: ""), line: 3,
                    key: "firms.f1.max_lots_per_order", message: "required key is missing")
    }

    func testDuplicateAccountIdIsRejected() {
        let text = valid + "\n  - id: a1\n    firm: f1\n    initial_balance: 5000\n"
        assertError(text, line: 14, key: "accounts[1].id", message: "duplicate account id 'a1'")
    }
}
