import TMTBase
import TMTModels

/// How one instrument behaves in the simulation: where it starts, its spread and volatility.
public struct InstrumentProfile: Sendable {
    public var instrument: Instrument
    /// First mid price.
    public var startPrice: Double
    /// Typical spread in pips during liquid hours (EUR_USD ≈ 0.8).
    public var baseSpreadPips: Double
    /// Annualised volatility of the mid (0.07 = 7 %).
    public var annualVolatility: Double
    /// Typical volume per tick, in units of the instrument.
    public var baseVolume: Double
    /// Mean seconds between ticks at normal activity.
    public var meanTickInterval: Double

    public init(instrument: Instrument, startPrice: Double, baseSpreadPips: Double, annualVolatility: Double,
                baseVolume: Double, meanTickInterval: Double = 0.25) {
        self.instrument = instrument
        self.startPrice = startPrice
        self.baseSpreadPips = baseSpreadPips
        self.annualVolatility = annualVolatility
        self.baseVolume = baseVolume
        self.meanTickInterval = meanTickInterval
    }

    /// The staging instruments with realistic figures.
    public static let defaults: [InstrumentProfile] = [
        InstrumentProfile(instrument: .eurUsd, startPrice: 1.0850, baseSpreadPips: 0.8, annualVolatility: 0.07, baseVolume: 250_000),
        InstrumentProfile(instrument: .gbpUsd, startPrice: 1.2650, baseSpreadPips: 1.2, annualVolatility: 0.09, baseVolume: 180_000),
        InstrumentProfile(instrument: .usdJpy, startPrice: 149.50, baseSpreadPips: 0.9, annualVolatility: 0.09, baseVolume: 200_000),
        InstrumentProfile(instrument: .audUsd, startPrice: 0.6550, baseSpreadPips: 1.0, annualVolatility: 0.10, baseVolume: 120_000),
        InstrumentProfile(instrument: .xauUsd, startPrice: 2350.00, baseSpreadPips: 25, annualVolatility: 0.15, baseVolume: 40),
        InstrumentProfile(instrument: .us30, startPrice: 38_500, baseSpreadPips: 2, annualVolatility: 0.16, baseVolume: 5, meanTickInterval: 0.3),
    ]
}

/// Market activity by UTC time: volume and tick rate scale with it, spreads shrink with it.
public enum TradingSession {
    /// Relative activity (1 = normal) at `micros` since the epoch for an instrument.
    public static func activity(atMicros micros: Int64, symbol: String) -> Double {
        let secondOfDay = Int((micros / 1_000_000) % 86_400)
        let hour = Double(secondOfDay) / 3600
        var a: Double
        switch hour {
        case 0..<7: a = 0.55          // Tokyo / Sydney
        case 7..<12: a = 1.2          // London
        case 12..<16: a = 1.6         // London / New York overlap
        case 16..<21: a = 1.0         // New York
        default: a = 0.35             // the quiet hour after New York closes
        }
        if symbol == "US30" { a = (13.5..<20).contains(hour) ? 1.8 : 0.25 }
        if symbol.hasSuffix("JPY") || symbol.hasPrefix("AUD"), hour < 7 { a = 1.0 }
        return a
    }

    /// Whether FX is closed: from Friday 21:00 UTC to Sunday 21:00 UTC.
    public static func isWeekendClosed(atMicros micros: Int64) -> Bool {
        let seconds = micros / 1_000_000
        // 1970-01-01 was a Thursday; weekday 0 = Monday.
        let weekday = Int(((seconds / 86_400) + 3) % 7)
        let secondOfDay = Int(seconds % 86_400)
        switch weekday {
        case 4: return secondOfDay >= 21 * 3600   // Friday from 21:00
        case 5: return true                        // Saturday
        case 6: return secondOfDay < 21 * 3600     // Sunday until 21:00
        default: return false
        }
    }

    /// The reopening time (Sunday 21:00 UTC) for a closed instant.
    public static func reopening(afterMicros micros: Int64) -> Int64 {
        let seconds = micros / 1_000_000
        let dayStart = seconds - seconds % 86_400
        let weekday = Int(((seconds / 86_400) + 3) % 7)
        let daysToSunday = Int64((6 - weekday + 7) % 7)
        var reopen = (dayStart + daysToSunday * 86_400 + 21 * 3600) * 1_000_000
        if reopen <= micros { reopen += 7 * 86_400 * 1_000_000 }
        return reopen
    }
}

/// A scheduled economic release. Spreads widen and volatility jumps around it; the compliance
/// engine blocks new orders in the affected currencies inside its blackout window.
public struct NewsEvent: Codable, Sendable, Equatable {
    public var id: String
    /// Release time, µs since the epoch.
    public var time: Int64
    /// Affected currency (`USD`, `EUR`, …).
    public var currency: String
    public var title: String
    /// `high` or `medium`.
    public var impact: String

    public init(id: String, time: Int64, currency: String, title: String, impact: String) {
        self.id = id
        self.time = time
        self.currency = currency
        self.title = title
        self.impact = impact
    }
}

/// The releases of a simulated period, deterministic for a seed.
public struct NewsCalendar: Sendable, Equatable {
    public var events: [NewsEvent]

    public init(events: [NewsEvent]) {
        self.events = events.sorted { $0.time < $1.time }
    }

    /// The usual weekday schedule (UTC) from `startMicros` for `days` days; each slot happens
    /// with a seeded probability, so different seeds give different but plausible calendars.
    public static func generate(seed: UInt64, startMicros: Int64, days: Int) -> NewsCalendar {
        let slots: [(hour: Int, minute: Int, currency: String, title: String, impact: String, p: Double)] = [
            (0, 30, "AUD", "AU employment change", "high", 0.5),
            (6, 0, "GBP", "UK GDP m/m", "medium", 0.5),
            (8, 30, "GBP", "UK CPI y/y", "high", 0.5),
            (9, 0, "EUR", "Euro area flash PMI", "medium", 0.6),
            (12, 30, "USD", "US nonfarm payrolls / CPI", "high", 0.7),
            (14, 0, "USD", "ISM / FOMC minutes", "medium", 0.6),
            (23, 50, "JPY", "Japan trade balance", "medium", 0.5),
        ]
        var rng = SeededRandom.derived(seed: seed, stream: "news")
        var events: [NewsEvent] = []
        let firstDay = startMicros / 86_400_000_000
        for d in 0..<Int64(max(days, 0)) {
            let day = firstDay + d
            for slot in slots {
                let roll = rng.uniform()
                let t = (day * 86_400 + Int64(slot.hour * 3600 + slot.minute * 60)) * 1_000_000
                guard roll < slot.p, t >= startMicros, !TradingSession.isWeekendClosed(atMicros: t) else { continue }
                events.append(NewsEvent(id: "news-\(day)-\(slot.currency)-\(slot.hour)\(slot.minute)", time: t,
                                        currency: slot.currency, title: slot.title, impact: slot.impact))
            }
        }
        return NewsCalendar(events: events)
    }

    /// The strongest effect of any release in `currencies` within `windowSeconds` of `micros`:
    /// 1 far from news, rising to `peak` at the release time.
    public func intensity(atMicros micros: Int64, currencies: [String], windowSeconds: Double = 120, peak: Double = 1) -> Double {
        var best = 0.0
        let window = Int64(windowSeconds * 1_000_000)
        // Events are sorted; scan the few near `micros`.
        var lo = 0, hi = events.count
        while lo < hi { let m = (lo + hi) / 2; if events[m].time < micros - window { lo = m + 1 } else { hi = m } }
        var i = lo
        while i < events.count, events[i].time <= micros + window {
            let e = events[i]
            if currencies.contains(e.currency) {
                let distance = Double(abs(e.time - micros)) / Double(window)
                let strength = (e.impact == "high" ? 1.0 : 0.5) * (1 - distance)
                best = max(best, strength)
            }
            i += 1
        }
        return best * peak
    }
}
