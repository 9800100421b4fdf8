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
    /// Returns inside the volatility window, oldest first (gap moves excluded): `window[head...]`.
    /// Pruning moves `head` instead of shifting the array — `removeFirst` moved the whole window
    /// (thousands of returns at a burst's pace) on every tick; the dead prefix is dropped once it
    /// is at least half the storage, so each return is moved at most once on average. (The
    /// caller takes the watch out of its dictionary while changing it, or the append would copy
    /// the shared storage anyway.)
    private var window: [Return] = []
    private var head = 0
    /// Σ squared returns of the window, kept exactly (Decimal) so threshold comparisons are exact.
    var sumSquares: Decimal = 0
    /// When (breaker clock, µs) each of this instrument's conditions last had its reason written.
    /// A clear reading that changes nothing rewrites the stored reason at most once per
    /// `CircuitBreaker.quietReasonRefreshMicros`: formatting two reasons with exact figures for
    /// every tick was most of the breaker's time under a tick burst.
    var reasonWrittenAt: [BreakerCause: Int64] = [:]

    /// Returns in the volatility window.
    var returnCount: Int { window.count - head }

    /// The returns in the volatility window, oldest first.
    var returns: ArraySlice<Return> { window[head...] }

    mutating func add(_ r: Return) {
        window.append(r)
        sumSquares += r.squared
    }

    mutating func prune(before cutoff: Int64) {
        while head < window.count, window[head].time <= cutoff {
            sumSquares -= window[head].squared
            head += 1
        }
        if head == window.count {
            window.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= window.count {
            window.removeFirst(head)
            head = 0
        }
    }

    /// Equal when what they watch is equal (not how much dead prefix each still stores).
    static func == (a: InstrumentWatch, b: InstrumentWatch) -> Bool {
        a.lastMid == b.lastMid && a.lastTime == b.lastTime && a.sumSquares == b.sumSquares
            && a.reasonWrittenAt == b.reasonWrittenAt && a.returns.elementsEqual(b.returns)
    }
}
