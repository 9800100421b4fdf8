import Foundation
import Synchronization
import TMTCore
import TMTPipeline
import TMTTrading
import XCTest

/// The trading and market schemas on a real PostgreSQL: applied once even when several services
/// start together, with constraints that refuse impossible rows.
final class PipelineSchemaTests: XCTestCase {
    /// A throwaway database so this test sees a fresh schema.
    private func freshDatabase() throws -> (PostgresConfiguration, () -> Void) {
        let base = try PostgresConfiguration(url: try TestServices.postgresURL())
        let name = "schema_test_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try PostgresPool(configuration: base, metrics: MetricsRegistry())
        try admin.execute("CREATE DATABASE \(name)")
        var config = base
        config.database = name
        return (config, {
            _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            admin.shutdown()
        })
    }

    func testTradingAndMarketSchemasApplyOnceUnderConcurrentStarts() throws {
        let (config, drop) = try freshDatabase()
        defer { drop() }
        let logger = Logger(service: "schema-test", level: .warning)
        // Four "services" starting at once, each with its own pool.
        let results = DispatchQueue.global()
        let group = DispatchGroup()
        let failures = Mutex<[String]>([])
        for _ in 0..<4 {
            group.enter()
            results.async {
                defer { group.leave() }
                do {
                    let pool = try PostgresPool(configuration: config, metrics: MetricsRegistry())
                    defer { pool.shutdown() }
                    try TradingSchema.migrate(pool: pool, logger: logger)
                    try MarketSchema.migrate(pool: pool, logger: logger)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        group.wait()
        XCTAssertEqual(failures.withLock { $0 }, [])
        let pool = try PostgresPool(configuration: config, metrics: MetricsRegistry())
        defer { pool.shutdown() }
        // Each schema keeps its own bookkeeping table (in compose they are separate databases);
        // each migration is recorded exactly once despite four concurrent starts.
        XCTAssertEqual(try pool.query("SELECT name FROM trading_schema_migrations ORDER BY version").map { try $0.decode(String.self, column: "name") },
                       TradingSchema.migrations.map(\.name))
        XCTAssertEqual(try pool.query("SELECT name FROM market_schema_migrations ORDER BY version").map { try $0.decode(String.self, column: "name") },
                       MarketSchema.migrations.map(\.name))
        // An instrument-tier breaker event is accepted (migration 2), an unknown tier is not.
        try pool.execute("INSERT INTO breaker_events (id, tier, target, from_state, to_state, reason, at) VALUES ('e1', 'instrument', 'XAU_USD', 'normal', 'tripped', 'gap', now())")
        XCTAssertThrowsError(try pool.execute("INSERT INTO breaker_events (id, tier, target, from_state, to_state, reason, at) VALUES ('e2', 'planet', 'x', 'normal', 'tripped', 'r', now())"))

        // Constraints: an impossible bar and an unknown side are refused.
        XCTAssertThrowsError(try pool.execute("""
            INSERT INTO bars (instrument, timeframe_seconds, start_time, open, high, low, close, volume, tick_count)
            VALUES ('EUR_USD', 60, now(), 1.1, 1.0, 1.2, 1.1, 1, 1)
            """))
        try pool.execute("INSERT INTO accounts (id, firm, currency, initial_balance, balance, equity, high_water_mark) VALUES ('a', 'f', 'USD', 100, 100, 100, 100)")
        XCTAssertThrowsError(try pool.execute("""
            INSERT INTO orders (id, account_id, instrument, side, type, quantity, status, trace_id, created_at)
            VALUES ('o', 'a', 'EUR_USD', 'hold', 'market', 1, 'proposed', 't', now())
            """))
    }

    func testNewsCalendarRoundTrip() throws {
        let (config, drop) = try freshDatabase()
        defer { drop() }
        let pool = try PostgresPool(configuration: config, metrics: MetricsRegistry())
        defer { pool.shutdown() }
        try TradingSchema.migrate(pool: pool, logger: Logger(service: "schema-test", level: .warning))
        let start: Int64 = 1_795_503_600_000_000
        let calendar = NewsCalendar.generate(seed: 3, startMicros: start, days: 7)
        let store = NewsStore(pool: pool)
        XCTAssertEqual(try store.save(calendar), calendar.events.count)
        XCTAssertEqual(try store.save(calendar), 0, "saving again must not duplicate")
        XCTAssertEqual(try store.calendar(fromMicros: start, toMicros: start + 8 * 86_400_000_000), calendar)
    }
}
