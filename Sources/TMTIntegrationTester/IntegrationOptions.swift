import Foundation
import TMTStagingTools

struct IntegrationOptions {
    static let allSuites: Set<String> = ["health", "metrics", "monitoring", "pipeline"]

    var reportDirectory: String?
    var timeout: Double
    var marketTime: Date
    var suites: Set<String>
    var seed: UInt64

    init(_ arguments: [String], now: Date = Date()) throws {
        let a = try ToolArguments(arguments, valued: ["--report-dir", "--timeout", "--market-time", "--only", "--seed"], switches: [])
        reportDirectory = a.string("--report-dir")
        timeout = try a.double("--timeout", default: 120, range: 5...3600)
        seed = UInt64(try a.int("--seed", default: 7, range: 0...Int(Int32.max)))
        marketTime = try Self.marketTime(a.string("--market-time") ?? "weekday", now: now)
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

    /// `now`, `weekday` (now, moved back to the previous Thursday at the same time of day when
    /// now falls between Friday 19:00 UTC and Monday 00:00 UTC) or an ISO 8601 instant.
    static func marketTime(_ text: String, now: Date) throws -> Date {
        switch text {
        case "now": return now
        case "weekday":
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let c = utc.dateComponents([.weekday, .hour], from: now)
            // weekday: 1 Sunday … 6 Friday, 7 Saturday.
            let back: Int
            switch (c.weekday ?? 2, c.hour ?? 0) {
            case (6, let h) where h >= 19: back = 1
            case (7, _): back = 2
            case (1, _): back = 3
            default: back = 0
            }
            return now.addingTimeInterval(-Double(back) * 86_400)
        default:
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let d = f.date(from: text) ?? ISO8601DateFormatter().date(from: text) { return d }
            throw ToolUsageError("--market-time must be now, weekday or an ISO 8601 instant such as 2026-11-24T10:00:00Z, not '\(text)'")
        }
    }
}
