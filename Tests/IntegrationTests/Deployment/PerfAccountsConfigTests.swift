import Foundation
import TMTCore
import TMTTrading
import XCTest

/// `scripts/perf-accounts.sh --write-config`: the config folder its account sweep starts each
/// stack on, read back with the agents' own parsers.
final class PerfAccountsConfigTests: XCTestCase {
    func testWritesAConfigWithNAccountsThatTheAgentsAccept() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perf-accounts-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        for count in [1, 10] {
            let r = try Tool.run(TestServices.repoRoot.appendingPathComponent("scripts/perf-accounts.sh").path,
                                 ["--write-config", String(count), dir.path])
            XCTAssertEqual(r.status, 0, r.output)
            let compliance = try ComplianceConfiguration.load(path: dir.appendingPathComponent("compliance-staging.yml").path)
            let ids = compliance.accounts.map(\.id)
            XCTAssertEqual(ids.count, count)
            XCTAssertEqual(Set(ids).count, count, "unique ids: \(ids)")
            XCTAssertEqual(ids.first, "acct-ftmo-100k", "the standard accounts come first")
            for account in compliance.accounts {
                XCTAssertNotNil(compliance.rules(forFirm: account.firm), "\(account.id): firm \(account.firm) has rules")
            }
            let breaker = try BreakerConfiguration(node: ConfigNode.load(path: dir.appendingPathComponent("circuit-breaker-staging.yml").path),
                                                   environment: Environment([:]))
            XCTAssertEqual(breaker.accounts, ids, "the breaker expects the same accounts")
            // The rest of the file is kept: the firms and the breaker's other settings.
            let original = try ComplianceConfiguration.load(path: TestServices.repoRoot.appendingPathComponent("config/compliance-staging.yml").path)
            XCTAssertEqual(compliance.firms.keys.sorted(), original.firms.keys.sorted())
        }
        let bad = try Tool.run(TestServices.repoRoot.appendingPathComponent("scripts/perf-accounts.sh").path, ["--write-config", "0", dir.path])
        XCTAssertEqual(bad.status, 2, bad.output)
    }
}
