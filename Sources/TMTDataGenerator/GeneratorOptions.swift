import Foundation
import TMTCore
import TMTTrading

/// Command-line options of `tmt-data-generator`.
struct GeneratorOptions {
    var seed: UInt64 = 42
    /// Ticks published per real second.
    var rate: Double = 100
    /// Stop after this many real seconds (nil: run until count or a stop signal).
    var duration: Double?
    /// Stop after this many ticks.
    var count: Int?
    /// Replay a recorded JSONL/CSV file instead of simulating.
    var replay: String?
    /// Simulated start time, µs since the epoch (default: now, or just after the stack's newest tick).
    var startMicros: Int64?
    /// Start from the instruments' own prices and now even when the stack has seen ticks.
    var fresh = false
    /// Scripted scenarios, e.g. `accumulation:EUR_USD`.
    var scenarios: [WyckoffScenario] = []
    /// Scenario length parameter (minutes of the scripted range).
    var scenarioMinutes: Double = 30
    /// Instruments to simulate (default: all six).
    var instruments: [String] = InstrumentProfile.defaults.map(\.instrument.symbol)
    var bootstrap: String?

    static let usage = """
    Usage: tmt-data-generator [--seed N] [--rate TICKS_PER_SECOND] [--duration SECONDS] [--count N]
                              [--replay FILE] [--scenario KIND:INSTRUMENT[@M]]... [--scenario-minutes M]
                              [--instruments A,B,...] [--start ISO8601 | --fresh] [--bootstrap HOST:PORT]

    Publishes simulated market data on the Kafka topic market.ticks (key: instrument), each tick
    in the pipeline's envelope. The simulation is deterministic for a seed: EUR_USD, GBP_USD,
    USD_JPY, AUD_USD, XAU_USD and US30 with realistic spreads, stochastic volatility, session
    activity, spreads widening around scheduled news, a weekend gap, and scripted Wyckoff
    scenarios. Tick times are simulated market time (µs since the epoch), which runs ahead of
    the wall clock when the rate is high.

      --seed N                 random seed (default 42)
      --rate R                 ticks per real second (default 100)
      --duration S             stop after S seconds
      --count N                stop after N ticks
      --replay FILE            publish recorded ticks instead (JSON Lines of ticks, or CSV with the
                               header instrument,time,bid,ask,volume), at --rate
      --scenario KIND:SYMBOL[@M]
                               script a Wyckoff scenario: accumulation (spring → markup) or
                               distribution (upthrust → markdown), starting M simulated minutes
                               in (default 0); one per instrument, repeatable
      --scenario-minutes M     length scale of the scripted scenarios (default 30)
      --instruments LIST       comma-separated subset of the instruments (default all)
      --start ISO8601          simulated start instant, from the instruments' own prices
      --fresh                  start at now from the instruments' own prices even when the stack
                               has seen ticks (see below)
      --bootstrap HOST:PORT    Kafka bootstrap servers (default: env KAFKA_BOOTSTRAP_SERVERS or
                               KAFKA_BOOTSTRAP_FILE)
      --help                   this text

    Without --start or --fresh the simulation continues the stack's market: each instrument
    starts from its newest price on the execution engine's quote board (REDIS_URL, key
    MARKET_QUOTES_KEY) or of its newest bar in the market database (MARKET_DATABASE_URL), and the
    clock from just after the newest of those (or now, when that is later). A restarted generator,
    or one started after a tool's run, then neither jumps prices (the circuit breaker would trip
    the instrument on the gap) nor sends ticks older than the stack's newest (which never become
    its quotes). A stack without either starts at now from the instruments' own prices.

    With DATABASE_URL set, the simulated news calendar (14 days from the start) is stored in the
    trading database's news_events table for the compliance engine's blackout rule.

    Progress (ticks sent, rate) goes to stderr once a second; SIGTERM or SIGINT stops it after
    flushing what was sent. Exit status: 0 done, 1 failed, 2 usage error.
    """

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ arguments: [String]) throws -> GeneratorOptions {
        var o = GeneratorOptions()
        var args = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = args.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            return v
        }
        func number(_ flag: String, _ raw: String) throws -> Double {
            guard let v = Double(raw), v.isFinite, v > 0 else { throw UsageError(description: "\(flag): expected a positive number, got '\(raw)'") }
            return v
        }
        while let arg = args.popFirst() {
            switch arg {
            case "--seed":
                let v = try value(arg)
                guard let s = UInt64(v) else { throw UsageError(description: "--seed: expected a non-negative integer, got '\(v)'") }
                o.seed = s
            case "--rate": o.rate = try number(arg, try value(arg))
            case "--duration": o.duration = try number(arg, try value(arg))
            case "--count":
                let v = try value(arg)
                guard let n = Int(v), n > 0 else { throw UsageError(description: "--count: expected a positive integer, got '\(v)'") }
                o.count = n
            case "--replay": o.replay = try value(arg)
            case "--scenario-minutes": o.scenarioMinutes = try number(arg, try value(arg))
            case "--scenario":
                let v = try value(arg)
                // KIND:SYMBOL or KIND:SYMBOL@MINUTES (the script starts that many simulated minutes in).
                let at = v.split(separator: "@", omittingEmptySubsequences: false).map(String.init)
                let parts = at[0].split(separator: ":").map(String.init)
                guard at.count <= 2, parts.count == 2, Instrument.catalog[parts[1]] != nil,
                      ["accumulation", "distribution"].contains(parts[0]) else {
                    throw UsageError(description: "--scenario: expected accumulation:SYMBOL or distribution:SYMBOL with a known symbol, optionally @MINUTES, got '\(v)'")
                }
                var offset = 0.0
                if at.count == 2 {
                    guard let m = Double(at[1]), m.isFinite, m >= 0 else {
                        throw UsageError(description: "--scenario: the start after @ must be minutes ≥ 0, got '\(at[1])'")
                    }
                    offset = m * 60
                }
                guard !o.scenarios.contains(where: { $0.symbol == parts[1] }) else {
                    throw UsageError(description: "--scenario: \(parts[1]) already has a scenario (one per instrument)")
                }
                o.scenarios.append(WyckoffScenario(symbol: parts[1], segments: [], rangeHalfWidth: parts[0] == "accumulation" ? 1 : -1,
                                                   startOffset: offset))
            case "--instruments":
                let list = try value(arg).split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                for s in list where Instrument.catalog[s] == nil { throw UsageError(description: "--instruments: unknown instrument '\(s)'") }
                guard !list.isEmpty else { throw UsageError(description: "--instruments: empty list") }
                o.instruments = list
            case "--start":
                let v = try value(arg)
                guard let d = ISO8601DateFormatter().date(from: v) else { throw UsageError(description: "--start: expected an ISO-8601 instant like 2026-11-25T07:00:00Z, got '\(v)'") }
                o.startMicros = Int64(d.timeIntervalSince1970 * 1_000_000)
            case "--fresh": o.fresh = true
            case "--bootstrap": o.bootstrap = try value(arg)
            default:
                throw UsageError(description: "unknown argument '\(arg)' (see --help)")
            }
        }
        // Build the scripted scenarios now that --scenario-minutes is known (flag order is free).
        o.scenarios = o.scenarios.map {
            $0.rangeHalfWidth > 0 ? .accumulation(symbol: $0.symbol, minutes: o.scenarioMinutes, startOffset: $0.startOffset)
                                  : .distribution(symbol: $0.symbol, minutes: o.scenarioMinutes, startOffset: $0.startOffset)
        }
        if o.fresh, o.startMicros != nil { throw UsageError(description: "--fresh and --start: give one (--start already starts from the instruments' own prices)") }
        if o.fresh, o.replay != nil { throw UsageError(description: "--fresh has no effect with --replay (a recording has its own prices and times)") }
        for s in o.scenarios where !o.instruments.contains(s.symbol) {
            throw UsageError(description: "--scenario for \(s.symbol), which is not among --instruments")
        }
        return o
    }
}
