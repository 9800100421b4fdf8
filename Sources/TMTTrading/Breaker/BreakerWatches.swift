import Foundation

/// The latest figures of one account, as the drawdown needs them.
struct AccountFigures: Sendable, Equatable {
    var equity: Decimal
    var dailyPnL: Decimal
    var currency: String
    /// Equity at the start of the account's trading day: equity − daily P&L (incl. open).
    var startOfDayEquity: Decimal { equity - dailyPnL }
}

/// What the breaker knows about one agent's heartbeats.
struct AgentWatch: Sendable, Equatable {
    /// When the last heartbeat arrived (breaker clock), µs; nil when none since start/restore.
    var lastHeard: Int64?
    /// When watching began (start, restore, or first heartbeat), µs.
    var watchingSince: Int64
}

/// The tick history of one instrument for gap and volatility detection, in tick time.
struct InstrumentWatch: Sendable, Equatable {
    struct Return: Sendable, Equatable {
        var time: Int64
        /// The squared tick-to-tick return, in percent².
        var squared: Decimal
    }

    var lastMid: Decimal?
    var lastTime: Int64?
    /// Returns inside the volatility window, oldest first (gap moves excluded).
    var returns: [Return] = []
    /// Σ squared returns of `returns`, kept exactly (Decimal) so threshold comparisons are exact.
    var sumSquares: Decimal = 0
    /// When (breaker clock, µs) each of this instrument's conditions last had its reason written.
    /// A clear reading that changes nothing rewrites the stored reason at most once per
    /// `CircuitBreaker.quietReasonRefreshMicros`: formatting two reasons with exact figures for
    /// every tick was most of the breaker's time under a tick burst.
    var reasonWrittenAt: [BreakerCause: Int64] = [:]

    mutating func add(_ r: Return) {
        returns.append(r)
        sumSquares += r.squared
    }

    mutating func prune(before cutoff: Int64) {
        var drop = 0
        while drop < returns.count, returns[drop].time <= cutoff {
            sumSquares -= returns[drop].squared
            drop += 1
        }
        if drop > 0 { returns.removeFirst(drop) }
    }
}
