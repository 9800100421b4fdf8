import TMTBase
import TMTModels

/// The anti-correlation core: judges an approved order by how alike it would make its account
/// and every other account, and staggers, resizes or skips it.
///
/// For each other account and each window the reading has two measures: the Pearson
/// correlation of the accounts' equity bucket returns (if at least the window's minimum of
/// common returns exist and neither series is flat), and the cosine similarity of their
/// exposure vectors after the order's signed notional is added to the ordering account. The
/// pair's value is the larger of the two (see `CorrelationReading.combined`). A pair whose
/// exposure similarity the order *lowers* does not count: the order moves the accounts apart.
/// The highest counted value (4 places) picks the action by `AntiCorrelationAction`; ties go to
/// the first account id, then the first configured window (so a value set by exposure
/// similarity alone, which is the same in every window, is reported under the first window,
/// with `measure` = `exposure` in the figures and the skip reason).
/// The ordering account's equity returns are what they are: the order changes only the
/// exposure side, which is why "after the order" is an exposure notion.
/// A risk-reducing order always passes unchanged, with the figures still recorded.
///
/// Stagger delays and size reductions are drawn from `SeededRandom` streams keyed by the
/// configured seed and the order id, so a redelivered order is treated the same way.
public struct AntiCorrelationEngine: Sendable {
    /// The agent name on decisions.
    public static let agent = "anti-correlation"

    /// Validated settings.
    public let configuration: AntiCorrelationConfiguration

    /// An engine with `configuration`; call `configuration.validate()` first.
    public init(configuration: AntiCorrelationConfiguration = AntiCorrelationConfiguration()) {
        self.configuration = configuration
    }

    /// A book shaped for this engine's windows.
    public func makeBook() -> AntiCorrelationBook { AntiCorrelationBook(windows: configuration.windows) }

    // MARK: - Readings

    /// Pearson correlation of two accounts' returns in `window` at `now` (µs), 4 places, with the
    /// number of common returns; the value is nil below the window's minimum overlap or when
    /// either series is flat.
    public func returnCorrelation(_ a: String, _ b: String, window: CorrelationWindow, book: AntiCorrelationBook,
                                  asOf now: Int64) -> (value: Decimal?, overlap: Int) {
        let ra = book.returns(of: a, window: window, asOf: now)
        let rb = book.returns(of: b, window: window, asOf: now)
        let common = ra.keys.filter { rb[$0] != nil }.sorted()
        guard common.count >= window.minimumOverlap else { return (nil, common.count) }
        let x = common.map { ra[$0]! }, y = common.map { rb[$0]! }
        return (RiskStatistics.pearson(x, y).map(AntiCorrelationDecimal.correlation), common.count)
    }

    /// Readings of `accountId` against every other account in the book, for every window, with
    /// `orderNotional` (signed, common currency; nil when the order cannot be priced) added to
    /// `accountId`'s exposure for the "after" similarity.
    public func readings(for accountId: String, orderInstrument: String, orderNotional: Decimal?,
                         book: AntiCorrelationBook, pricing: ExposurePricing, asOf now: Int64) -> [CorrelationReading] {
        let own = book.exposure(of: accountId, pricing: pricing).vector
        let after = orderNotional.map { own.adding($0, to: orderInstrument) } ?? own
        var out: [CorrelationReading] = []
        for other in book.accountIds where other != accountId {
            let theirs = book.exposure(of: other, pricing: pricing).vector
            let before = own.cosineSimilarity(with: theirs).map(AntiCorrelationDecimal.correlation)
            let afterValue = after.cosineSimilarity(with: theirs).map(AntiCorrelationDecimal.correlation)
            for window in configuration.windows {
                let r = returnCorrelation(accountId, other, window: window, book: book, asOf: now)
                out.append(CorrelationReading(account: other, window: window.name, returnCorrelation: r.value, overlap: r.overlap,
                                              exposureBefore: before, exposureAfter: afterValue))
            }
        }
        return out
    }

    /// The account × account matrix for the window named `window` at `now` (µs), for the gauge
    /// `tmt_account_correlation{a,b,window}`; nil when no such window is configured.
    public func correlationMatrix(window name: String, book: AntiCorrelationBook, pricing: ExposurePricing,
                                  asOf now: Int64) -> CorrelationMatrix? {
        guard let window = configuration.window(named: name) else { return nil }
        let ids = book.accountIds
        let vectors = ids.map { book.exposure(of: $0, pricing: pricing).vector }
        var values = [[Decimal?]](repeating: [Decimal?](repeating: nil, count: ids.count), count: ids.count)
        for i in ids.indices {
            values[i][i] = 1
            for j in ids.indices where j > i {
                let r = returnCorrelation(ids[i], ids[j], window: window, book: book, asOf: now).value
                let e = vectors[i].cosineSimilarity(with: vectors[j]).map(AntiCorrelationDecimal.correlation)
                let reading = CorrelationReading(account: ids[j], window: name, returnCorrelation: r, overlap: 0,
                                                 exposureBefore: e, exposureAfter: e)
                values[i][j] = reading.combined
                values[j][i] = reading.combined
            }
        }
        return CorrelationMatrix(window: name, accounts: ids, values: values)
    }

    /// Drops from `book` the pending orders older than `pendingLifetimeSeconds` at `now` (µs),
    /// and the ends learnt more than `endMemorySeconds` ago; the agent calls it once a
    /// reconciliation round.
    public func expirePending(in book: inout AntiCorrelationBook, now: Int64) {
        book.expirePending(before: now - Int64(configuration.pendingLifetimeSeconds) * 1_000_000,
                           endsBefore: now - Int64(Self.endMemorySeconds) * 1_000_000)
    }

    /// How long an order's end (fill or `orders.blocked`) is remembered, seconds: long enough for
    /// its let-through record read after it (the topics are read in no guaranteed order, a
    /// replay at start reads them all within seconds) not to count it again. Kept as long as
    /// the pending lifetime (now days), every fill of those days would be held and filtered.
    public static let endMemorySeconds = 600

    // MARK: - Deterministic draws

    /// The stagger delay for `orderId`, whole seconds in [minimum, maximum] of the configuration.
    public func staggerSeconds(orderId: String) -> Int {
        let lo = configuration.minimumStaggerSeconds, hi = configuration.maximumStaggerSeconds
        var rng = SeededRandom.derived(seed: configuration.seed, stream: "anti-correlation.stagger:\(orderId)")
        let span = hi - lo + 1
        return lo + min(span - 1, Int(rng.uniform() * Double(span)))
    }

    /// The size reduction for `orderId` before lot-step rounding, percent with 4 places in
    /// [minimum, maximum] of the configuration.
    public func sizeReductionPercent(orderId: String) -> Decimal {
        let lo = configuration.minimumSizeReductionPercent, hi = configuration.maximumSizeReductionPercent
        var rng = SeededRandom.derived(seed: configuration.seed, stream: "anti-correlation.size:\(orderId)")
        // The draw is cut to 4 places as an integer so the fraction is exact in Decimal.
        let u = Decimal(Int(rng.uniform() * 10_000)) / 10_000
        return AntiCorrelationDecimal.round(lo + (hi - lo) * u, 4, .down)
    }

    /// `quantity` reduced by `percent` and rounded down to `lotStep`; nil when that leaves less
    /// than one step (the order must then be skipped rather than sent at a size never asked for).
    public static func reducedQuantity(_ quantity: Decimal, byPercent percent: Decimal, lotStep: Decimal) -> Decimal? {
        let reduced = AntiCorrelationDecimal.floor(quantity * (100 - percent) / 100, step: lotStep)
        return reduced >= lotStep ? reduced : nil
    }

    // MARK: - Evaluation

    /// Judges `order` (from `orders.approved`) against `book` at `now` (µs since the epoch).
    public func evaluate(_ order: Order, book: AntiCorrelationBook, pricing: ExposurePricing, now: Int64) -> AntiCorrelationOutcome {
        let orderNotional = pricing.notional(of: order.instrument, lots: order.side.sign * order.quantity)
        let all = readings(for: order.accountId, orderInstrument: order.instrument, orderNotional: orderNotional,
                           book: book, pricing: pricing, asOf: now)
        let windowRank = Dictionary(uniqueKeysWithValues: configuration.windows.enumerated().map { ($0.element.name, $0.offset) })
        func counted(_ r: CorrelationReading) -> Decimal? { r.orderLowersSimilarity ? nil : r.combined }
        // Highest value; ties go to the first account id, then the first configured window.
        let strongest = all.filter { counted($0) != nil }.min { a, b in
            let va = counted(a)!, vb = counted(b)!
            if va != vb { return va > vb }
            if a.account != b.account { return a.account < b.account }
            return windowRank[a.window, default: 0] < windowRank[b.window, default: 0]
        }
        let value = strongest.flatMap(counted)
        let indicated = value.map { AntiCorrelationAction.forCorrelation($0, configuration: configuration) } ?? .none

        var checks = configuration.windows.map { windowCheck($0.name, readings: all, counted: counted) }
        var figures: [String: String] = [
            "maxCorrelation": value.map { AntiCorrelationDecimal.fixed($0, 4) } ?? "n/a",
            "correlatedAccount": strongest?.account ?? "",
            "window": strongest?.window ?? "",
            "measure": strongest?.combinedMeasure ?? "",
            "indicatedAction": indicated.rawValue,
            "originalQuantity": "\(order.quantity)",
        ]
        if orderNotional == nil {
            checks.append(Decision.Check(rule: "exposure", passed: true, severity: "soft",
                                         detail: "order not priced (\(order.instrument) price or rate unknown); exposure after the order not evaluated"))
        }

        var action = indicated
        var quantity = order.quantity
        var delay = 0
        var reduction: Decimal = 0
        var skipReason: String?
        if order.riskReducing {
            action = .none
            checks.append(Decision.Check(rule: "riskReducing", passed: true, severity: "soft",
                                         detail: "risk-reducing order passes unchanged (indicated \(indicated.rawValue))"))
        } else if let strongest, let value {
            let measure = strongest.combinedMeasure == "exposure" ? "exposure similarity" : "return correlation"
            let named = "correlation \(AntiCorrelationDecimal.fixed(value, 4)) with \(strongest.account) over \(strongest.window) (\(measure))"
            switch indicated {
            case .none:
                break
            case .stagger:
                delay = staggerSeconds(orderId: order.id)
            case .resize:
                delay = staggerSeconds(orderId: order.id)
                let drawn = sizeReductionPercent(orderId: order.id)
                if let step = pricing.instruments[order.instrument]?.lotStep,
                   let reduced = Self.reducedQuantity(order.quantity, byPercent: drawn, lotStep: step) {
                    quantity = reduced
                    reduction = AntiCorrelationDecimal.round((order.quantity - reduced) / order.quantity * 100, 4)
                    figures["drawnReductionPercent"] = AntiCorrelationDecimal.fixed(drawn, 4)
                } else {
                    action = .block
                    delay = 0
                    let step = pricing.instruments[order.instrument].map { "\($0.lotStep)" } ?? "unknown"
                    skipReason = "\(named) ≥ resize level \(configuration.resizeLevel): \(order.quantity) lots less "
                        + "\(AntiCorrelationDecimal.fixed(drawn, 4))% is below one lot step (\(step))"
                    checks.append(Decision.Check(rule: "lotStep", passed: false, detail: skipReason!))
                }
            case .block:
                skipReason = "\(named) ≥ block level \(configuration.blockLevel)"
            }
        }

        figures["action"] = action.rawValue
        figures["delaySeconds"] = "\(delay)"
        figures["sizeChangePercent"] = reduction == 0 ? "0" : "-" + AntiCorrelationDecimal.fixed(reduction, 4)
        figures["quantity"] = "\(skipReason == nil ? quantity : order.quantity)"
        let verdict: Decision.Verdict = skipReason != nil ? .skipped : (action == .none ? .approved : .modified)
        let decision = Decision(agent: Self.agent, verdict: verdict, checks: checks, figures: figures, decidedAt: now)
        return AntiCorrelationOutcome(action: action, indicatedAction: indicated, quantity: skipReason == nil ? quantity : order.quantity,
                                      delaySeconds: delay, sizeReductionPercent: reduction, strongest: strongest,
                                      readings: all, skipReason: skipReason, decision: decision)
    }

    /// One check per window: the strongest counted pair in it, or why nothing counted.
    private func windowCheck(_ name: String, readings: [CorrelationReading],
                             counted: (CorrelationReading) -> Decimal?) -> Decision.Check {
        let inWindow = readings.filter { $0.window == name }
        let best = inWindow.filter { counted($0) != nil }.max { counted($0)! < counted($1)! }
        guard let best, let value = counted(best) else {
            let detail: String
            if inWindow.isEmpty {
                detail = "no other account to compare with"
            } else if inWindow.contains(where: { $0.orderLowersSimilarity }) && !inWindow.contains(where: { $0.combined != nil && !$0.orderLowersSimilarity }) {
                detail = "order lowers exposure similarity with every comparable account"
            } else {
                detail = "insufficient data: too few common returns and no exposure to compare"
            }
            return Decision.Check(rule: "correlation.\(name)", passed: true, severity: "soft", detail: detail)
        }
        let action = AntiCorrelationAction.forCorrelation(value, configuration: configuration)
        return Decision.Check(rule: "correlation.\(name)", passed: action == .none,
                              severity: action == .block ? "hard" : "soft",
                              detail: "\(action.rawValue): \(best.summary)")
    }
}
