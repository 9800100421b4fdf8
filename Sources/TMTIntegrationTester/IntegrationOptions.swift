import Foundation
import TMTStagingTools

struct IntegrationOptions {
    static let allSuites: Set<String> = ["health", "metrics", "monitoring", "pipeline"]

    var reportDirectory: String?
    var timeout: Double
    /// `--market-time` as given (resolved against the stack's clock when the scenario starts).
    var marketTime: String
    var suites: Set<String>
    var seed: UInt64
    /// `--accounts`: the accounts the scenario trades (default the first three in the database).
    var accounts: [String]?

    init(_ arguments: [String], now: Date = Date()) throws {
        let a = try ToolArguments(arguments, valued: ["--report-dir", "--timeout", "--market-time", "--only", "--seed", "--accounts"], switches: [])
        reportDirectory = a.string("--report-dir")
        if let list = a.string("--accounts") {
            accounts = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard accounts!.count >= 3 else { throw ToolUsageError("--accounts needs three account ids, got '\(list)'") }
        }
        timeout = try a.double("--timeout", default: 120, range: 5...3600)
        seed = UInt64(try a.int("--seed", default: 7, range: 0...Int(Int32.max)))
        marketTime = a.string("--market-time") ?? "weekday"
        _ = try MarketTime.parse(marketTime, now: now)
        if let only = a.string("--only") {
            let wanted = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = wanted.subtracting(Self.allSuites)
            guard unknown.isEmpty, !wanted.isEmpty else {
                throw ToolUsageError("--only: unknown suite(s) \(unknown.sorted().joined(separator: ", ")); choose from \(Self.allSuites.sorted().joined(separator: ", "))")
            }
            suites = wanted
        } else {
            suites = Self.allSuites
        }
    }
}
