import TMTBase

/// Settings of the anti-correlation core: the windows, the three correlation levels and the
/// ranges of the stagger delay and of the size reduction. Every field has a default; decoding
/// fills missing keys with them. Call `validate()` once at start-up.
public struct AntiCorrelationConfiguration: Codable, Sendable, Equatable {
    /// Correlation windows; default 5 min, 1 h and 1 day (`CorrelationWindow.fiveMinutes`, …).
    public var windows: [CorrelationWindow]
    /// From this correlation on (inclusive) an order is staggered; default 0.5.
    public var staggerLevel: Decimal
    /// From this correlation on its size is also reduced; default 0.7.
    public var resizeLevel: Decimal
    /// From this correlation on it is skipped; default 0.9.
    public var blockLevel: Decimal
    /// Shortest stagger delay, whole seconds; default 5.
    public var minimumStaggerSeconds: Int
    /// Longest stagger delay, whole seconds (inclusive); default 45.
    public var maximumStaggerSeconds: Int
    /// Smallest size reduction, percent; default 5.
    public var minimumSizeReductionPercent: Decimal
    /// Largest size reduction before lot-step rounding, percent; default 15.
    public var maximumSizeReductionPercent: Decimal
    /// Seed of the per-order draws (delay, reduction); default 0. With the order id it fixes
    /// both, so a redelivered order gets the same treatment.
    public var seed: UInt64
    /// How long a let-through order counts in its account's exposure without a fill or an end,
    /// seconds (see `AntiCorrelationEngine.expirePending`): a safety net for an order whose end
    /// is neither published on `orders.blocked` nor stored (dead-lettered downstream). Default
    /// 345,600 (four days). It must outlast the longest legitimate wait: human behaviour holds an
    /// order up to 16 hours (`maxHoldSeconds`), and the execution engine keeps a limit or stop
    /// order working for a day of market time, which stands still over a weekend. It was 300,
    /// so an order held through a short break or resting as a limit stopped counting while it
    /// could still trade, and correlated orders went through.
    public var pendingLifetimeSeconds: Int

    public init(windows: [CorrelationWindow] = [.fiveMinutes, .oneHour, .oneDay],
                staggerLevel: Decimal = Decimal(string: "0.5")!, resizeLevel: Decimal = Decimal(string: "0.7")!,
                blockLevel: Decimal = Decimal(string: "0.9")!,
                minimumStaggerSeconds: Int = 5, maximumStaggerSeconds: Int = 45,
                minimumSizeReductionPercent: Decimal = 5, maximumSizeReductionPercent: Decimal = 15, seed: UInt64 = 0,
                pendingLifetimeSeconds: Int = 345_600) {
        self.windows = windows
        self.staggerLevel = staggerLevel
        self.resizeLevel = resizeLevel
        self.blockLevel = blockLevel
        self.minimumStaggerSeconds = minimumStaggerSeconds
        self.maximumStaggerSeconds = maximumStaggerSeconds
        self.minimumSizeReductionPercent = minimumSizeReductionPercent
        self.maximumSizeReductionPercent = maximumSizeReductionPercent
        self.seed = seed
        self.pendingLifetimeSeconds = pendingLifetimeSeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AntiCorrelationConfiguration()
        self.init(
            windows: try c.decodeIfPresent([CorrelationWindow].self, forKey: .windows) ?? d.windows,
            staggerLevel: try c.decodeIfPresent(Decimal.self, forKey: .staggerLevel) ?? d.staggerLevel,
            resizeLevel: try c.decodeIfPresent(Decimal.self, forKey: .resizeLevel) ?? d.resizeLevel,
            blockLevel: try c.decodeIfPresent(Decimal.self, forKey: .blockLevel) ?? d.blockLevel,
            minimumStaggerSeconds: try c.decodeIfPresent(Int.self, forKey: .minimumStaggerSeconds) ?? d.minimumStaggerSeconds,
            maximumStaggerSeconds: try c.decodeIfPresent(Int.self, forKey: .maximumStaggerSeconds) ?? d.maximumStaggerSeconds,
            minimumSizeReductionPercent: try c.decodeIfPresent(Decimal.self, forKey: .minimumSizeReductionPercent)
                ?? d.minimumSizeReductionPercent,
            maximumSizeReductionPercent: try c.decodeIfPresent(Decimal.self, forKey: .maximumSizeReductionPercent)
                ?? d.maximumSizeReductionPercent,
            seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed,
            pendingLifetimeSeconds: try c.decodeIfPresent(Int.self, forKey: .pendingLifetimeSeconds) ?? d.pendingLifetimeSeconds)
    }

    /// The window named `name`, if configured.
    public func window(named name: String) -> CorrelationWindow? { windows.first { $0.name == name } }

    /// Throws a `.configuration` error naming the first invalid field (e.g. `resizeLevel`,
    /// `windows[1h].minimumOverlap`) and the allowed range.
    public func validate() throws(TMTError) {
        func fail(_ field: String, _ problem: String) -> TMTError {
            TMTError(.configuration, "anti-correlation configuration: \(field) \(problem)")
        }
        if windows.isEmpty { throw fail("windows", "must list at least one window") }
        var names = Set<String>()
        for window in windows {
            if let (field, problem) = window.problem() { throw fail("windows[\(window.name)].\(field)", problem) }
            if !names.insert(window.name).inserted { throw fail("windows[\(window.name)]", "is listed twice") }
        }
        if staggerLevel <= 0 || staggerLevel > 1 { throw fail("staggerLevel", "must be in (0, 1], got \(staggerLevel)") }
        if resizeLevel < staggerLevel || resizeLevel > 1 {
            throw fail("resizeLevel", "must be in [staggerLevel (\(staggerLevel)), 1], got \(resizeLevel)")
        }
        if blockLevel < resizeLevel || blockLevel > 1 {
            throw fail("blockLevel", "must be in [resizeLevel (\(resizeLevel)), 1], got \(blockLevel)")
        }
        if minimumStaggerSeconds < 0 { throw fail("minimumStaggerSeconds", "must be ≥ 0, got \(minimumStaggerSeconds)") }
        if maximumStaggerSeconds < minimumStaggerSeconds {
            throw fail("maximumStaggerSeconds", "must be ≥ minimumStaggerSeconds (\(minimumStaggerSeconds)), got \(maximumStaggerSeconds)")
        }
        if minimumSizeReductionPercent <= 0 || minimumSizeReductionPercent >= 100 {
            throw fail("minimumSizeReductionPercent", "must be in (0, 100), got \(minimumSizeReductionPercent)")
        }
        if maximumSizeReductionPercent < minimumSizeReductionPercent || maximumSizeReductionPercent >= 100 {
            throw fail("maximumSizeReductionPercent",
                       "must be in [minimumSizeReductionPercent (\(minimumSizeReductionPercent)), 100), got \(maximumSizeReductionPercent)")
        }
        if pendingLifetimeSeconds <= 0 {
            throw fail("pendingLifetimeSeconds", "must be positive, got \(pendingLifetimeSeconds)")
        }
    }
}
