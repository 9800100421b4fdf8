import Foundation

/// Orders the circuit breaker blocked for one reason: its check (`breaker-instrument`,
/// `breaker-account`, `breaker-system`, `breaker-agents`), what it concerns (the instrument, the
/// account, or the check itself), how many orders, the first order's detail, and the last
/// order's when it differs (the breaker tripped again for another reason during the run).
public struct BreakerBlock: Equatable, Sendable {
    public var rule: String
    public var target: String
    public var orders: Int
    public var detail: String
    /// The last blocked order's detail; nil when it is the first's.
    public var latestDetail: String?

    public init(rule: String, target: String, orders: Int, detail: String, latestDetail: String? = nil) {
        self.rule = rule
        self.target = target
        self.orders = orders
        self.detail = detail
        self.latestDetail = latestDetail
    }

    /// Blocked orders in the order they were sent (each with the first failed check of the
    /// breaker's decision), grouped by check and target (the instrument of an instrument
    /// breaker, the account of an account breaker, else the check); most orders first, then by
    /// check and target. A group's detail is its first order's, its latest detail the last
    /// order's when that differs.
    public static func group(_ blocked: [(rule: String, instrument: String, account: String, detail: String)]) -> [BreakerBlock] {
        var groups: [String: BreakerBlock] = [:]
        for b in blocked {
            let target = switch b.rule {
            case "breaker-instrument": b.instrument
            case "breaker-account": b.account
            default: b.rule
            }
            let key = b.rule + "\u{0}" + target
            if var group = groups[key] {
                group.orders += 1
                group.latestDetail = b.detail == group.detail ? nil : b.detail
                groups[key] = group
            } else {
                groups[key] = BreakerBlock(rule: b.rule, target: target, orders: 1, detail: b.detail)
            }
        }
        return groups.values.sorted { ($1.orders, $0.rule, $0.target) < ($0.orders, $1.rule, $1.target) }
    }

    /// "12 orders on instrument EUR_USD (detail); 1 order for account ftmo-1 (detail)"; a group
    /// whose last order was blocked for another reason: "(first: detail; latest: detail)".
    public static func describe(_ blocks: [BreakerBlock]) -> String {
        blocks.map { b in
            let what = switch b.rule {
            case "breaker-instrument": "on instrument \(b.target)"
            case "breaker-account": "for account \(b.target)"
            default: "by \(b.rule)"
            }
            let why = b.latestDetail.map { "first: \(b.detail); latest: \($0)" } ?? b.detail
            return "\(b.orders) order\(b.orders == 1 ? "" : "s") \(what) (\(why))"
        }.joined(separator: "; ")
    }

    /// As JSON (`{"rule","target","orders","detail"}`, and `"latest_detail"` when there is one).
    public var object: [String: Any] {
        var o: [String: Any] = ["rule": rule, "target": target, "orders": orders, "detail": detail]
        if let latestDetail { o["latest_detail"] = latestDetail }
        return o
    }
}

/// The breakers not normal now (tripped, half-open, or warning: a warning leaves only
/// risk-reducing orders through), from the gateway's breaker overview (`GET /api/v1/breaker`),
/// for the tiers asked for. A measuring run resets the instruments' first, since a new order on
/// such an instrument would be blocked and the run would measure refusals instead of the
/// pipeline, and names all of them afterwards, as the state it leaves for the next run.
public struct BreakerHalts: Equatable, Sendable {
    public struct Halt: Equatable, Sendable {
        public var tier: String
        public var target: String
        public var state: String
        /// Tripped by an operator (`POST /api/v1/breaker/trip`) rather than by the breaker itself.
        public var manual: Bool
        public var reason: String

        /// "EUR_USD (tripped: …)", "XAU_USD (tripped by an operator: …)", "account acct-1 (tripped: …)",
        /// "system (tripped: …)".
        public var label: String {
            let what = tier == "instrument" || tier == target ? target : "\(tier) \(target)"
            return what + " (\(state)\(manual ? " by an operator" : ""): \(reason))"
        }

        /// As JSON (`{"tier","target","state","manual","reason"}`).
        public var object: [String: Any] { ["tier": tier, "target": target, "state": state, "manual": manual, "reason": reason] }
    }

    /// By tier (system, agent, account, instrument), then target.
    public var halts: [Halt]

    /// From the overview's JSON (`{"breakers":[{"tier","target","state","manual","reason"},…]}`).
    public init(overview: [UInt8], tiers: Set<String>) throws {
        struct Overview: Decodable {
            struct Breaker: Decodable {
                var tier: String
                var target: String
                var state: String
                var manual: Bool?
                var reason: String?
            }
            var breakers: [Breaker]
        }
        let order = ["system": 0, "agent": 1, "account": 2, "instrument": 3]
        halts = try JSONDecoder().decode(Overview.self, from: Data(overview)).breakers
            .filter { tiers.contains($0.tier) && $0.state != "normal" }
            .map { Halt(tier: $0.tier, target: $0.target, state: $0.state, manual: $0.manual ?? false, reason: $0.reason ?? "") }
            .sorted { (order[$0.tier] ?? 9, $0.target) < (order[$1.tier] ?? 9, $1.target) }
    }
}
