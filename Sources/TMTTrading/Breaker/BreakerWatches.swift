import TMTBase

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
    /// Each running instance's last reported status, by instance id: replicas report in turn,
    /// and the agent's status is theirs together (one instance's report used to overwrite the
    /// other's, so a degraded replica made the breaker flap).
    var instances: [String: InstanceReport] = [:]

    struct InstanceReport: Sendable, Equatable {
        var status: String
        var failingChecks: [String]
        /// Breaker clock, µs.
        var heard: Int64
    }
}

/// A quote's two sides, kept as they came: the exact mid is computed only when a figure or a
/// borderline comparison needs it.
struct QuotePair: Sendable, Equatable {
    var bid: Decimal
    var ask: Decimal

    /// The exact mid, as `Tick.mid` computes it.
    var mid: Decimal { (bid + ask) * QuotePair.half }
    private static let half = Decimal(sign: .plus, exponent: -1, significand: 5)

    /// The return from `previous` to this quote in percent, exactly:
    /// (mid − previous mid) × 100 / previous mid.
    func exactMove(from previous: QuotePair) -> Decimal {
        let before = previous.mid
        return (mid - before) * 100 / before
    }
}

/// The tick history of one instrument for gap and volatility detection, in tick time.
///
/// Every tick's figures are computed in `Double` (swift-foundation's `Decimal` costs about a
/// microsecond per operation, and the breaker reads every tick: the exact return, its square
/// and the exact Σr² were most of its time under a tick burst), and each return keeps the two
/// quotes it was computed from, so a comparison that `Double` cannot decide for certain — a
/// value within its error bound of a threshold — is made exactly (`exactSumSquares`).
struct InstrumentWatch: Sendable, Equatable {
    struct Return: Sendable, Equatable {
        var time: Int64
        /// The tick-to-tick return in percent, in `Double`: within 1e-11 + 1e-13·|move| of the
        /// exact one (a `Decimal`'s conversion to `Double` is within ~6 ulps here, 6.3e-16
        /// relative, measured; the bound allows 1e-14 per conversion).
        var move: Double
        /// The quotes the return is from and to (for the exact figure).
        var from: QuotePair
        var to: QuotePair

        var squared: Double { move * move }
        /// How far `squared` can be from the exact square (see `InstrumentWatch`).
        var squaredErrorBound: Double { 2.5e-11 * abs(move) + 3e-13 * move * move + 1e-22 }

        /// The return in percent, exactly.
        var exactMove: Decimal { to.exactMove(from: from) }
    }

    /// The last tick's quote and its mid in `Double`.
    var lastQuote: QuotePair?
    /// nil when the quote's bid was not positive (its Double mid may be far from the exact one).
    var lastMid: Double?
    var lastTime: Int64?
    /// Returns inside the volatility window, oldest first (gap moves excluded): `window[head...]`.
    /// Pruning moves `head` instead of shifting the array — `removeFirst` moved the whole window
    /// (thousands of returns at a burst's pace) on every tick; the dead prefix is dropped once it
    /// is at least half the storage, so each return is moved at most once on average. (The
    /// caller takes the watch out of its dictionary while changing it, or the append would copy
    /// the shared storage anyway.)
    private var window: [Return] = []
    private var head = 0
    /// Σ squared returns of the window in `Double`, kept as returns come and go and summed afresh
    /// whenever the storage is compacted, so rounding cannot accumulate beyond one window's worth.
    private(set) var sumSquares: Double = 0
    /// Σ of the returns' own error bounds (`Return.squaredErrorBound`), kept like `sumSquares`.
    private var returnErrors: Double = 0
    /// A bound on the rounding of the running sum since it was last summed afresh.
    private var sumRounding: Double = 0
    /// When (breaker clock, µs) each of this instrument's conditions last had its reason written.
    /// A clear reading that changes nothing rewrites the stored reason at most once per
    /// `CircuitBreaker.quietReasonRefreshMicros`: formatting two reasons with exact figures for
    /// every tick was most of the breaker's time under a tick burst.
    var reasonWrittenAt: [BreakerCause: Int64] = [:]

    /// Returns in the volatility window.
    var returnCount: Int { window.count - head }

    /// The returns in the volatility window, oldest first.
    var returns: ArraySlice<Return> { window[head...] }

    /// Σr² of the window computed exactly from the returns' quotes (`Decimal`): for comparisons
    /// `sumSquares` cannot decide and for a reason's figure. O(returns).
    var exactSumSquares: Decimal {
        var sum = Decimal(0)
        for r in returns {
            let move = r.exactMove
            sum += move * move
        }
        return sum
    }

    /// How far `sumSquares` can be from the exact Σr²: each return's own error, plus the running
    /// sum's rounding (a relative 2.3e-16 of the larger operand per addition or removal), doubled.
    /// A threshold closer than this to `sumSquares` is compared with `exactSumSquares` instead.
    var sumSquaresErrorBound: Double { 2 * (returnErrors + sumRounding) + 1e-300 }

    mutating func add(_ r: Return) {
        window.append(r)
        let before = sumSquares
        sumSquares += r.squared
        returnErrors += r.squaredErrorBound
        sumRounding += 2.3e-16 * max(abs(before), abs(sumSquares))
    }

    mutating func prune(before cutoff: Int64) {
        while head < window.count, window[head].time <= cutoff {
            let before = sumSquares
            sumSquares -= window[head].squared
            returnErrors -= window[head].squaredErrorBound
            sumRounding += 2.3e-16 * max(abs(before), abs(sumSquares)) + 2.3e-16 * abs(returnErrors)
            head += 1
        }
        if head == window.count {
            window.removeAll(keepingCapacity: true)
            head = 0
            (sumSquares, returnErrors, sumRounding) = (0, 0, 0)
        } else if head >= 64, head * 2 >= window.count {
            window.removeFirst(head)
            head = 0
            resum()
        }
    }

    /// Sums the window afresh when the running sum's rounding is the larger part of its error
    /// bound (e.g. after large returns left the window, what is left can be mostly rounding):
    /// O(returns) in `Double`, for a figure that is about to be written.
    mutating func refreshSum() {
        if sumRounding > returnErrors { resum() }
    }

    /// Sums the window afresh (after a compaction: amortised O(1) per return).
    mutating func resum() {
        var sum = 0.0, errors = 0.0
        for r in window[head...] {
            sum += r.squared
            errors += r.squaredErrorBound
        }
        sumSquares = sum
        returnErrors = errors
        sumRounding = 2.3e-16 * Double(returnCount) * sum + 2.3e-16 * Double(returnCount) * errors
    }

    /// Equal when what they watch is equal (not how much dead prefix each still stores, nor the
    /// rounding of their running sums).
    static func == (a: InstrumentWatch, b: InstrumentWatch) -> Bool {
        a.lastQuote == b.lastQuote && a.lastTime == b.lastTime
            && a.reasonWrittenAt == b.reasonWrittenAt && a.returns.elementsEqual(b.returns)
    }
}

/// The count of fast-path verdicts overturned by the exact check, and the details not yet
/// taken by the agent (at most 20 kept).
public struct FastPathDisagreements: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var pending: [String] = []

    mutating func record(_ detail: String) {
        count += 1
        if pending.count < 20 { pending.append(detail) }
    }

    /// The details recorded since the last call.
    mutating func takePending() -> [String] {
        defer { pending = [] }
        return pending
    }
}
