import TMTCore

/// The market-data database's schema (ticks, bars and the bars open at a stop), as versioned migrations that every
/// service using the database applies at start-up under the migrator's advisory lock.
///
/// Where the `timescaledb` extension is available (the compose file's TimescaleDB image) both
/// tables become hypertables; on a plain PostgreSQL (native mode) they stay ordinary tables with
/// the same primary-key indexes, and every query works the same.
public enum MarketSchema {
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(version: 1, name: "ticks_and_bars", sql: """
        CREATE TABLE ticks (
            instrument text NOT NULL,
            time timestamptz NOT NULL,
            bid numeric NOT NULL,
            ask numeric NOT NULL,
            volume numeric NOT NULL,
            PRIMARY KEY (instrument, time)
        );
        CREATE TABLE bars (
            instrument text NOT NULL,
            timeframe_seconds integer NOT NULL CHECK (timeframe_seconds > 0),
            start_time timestamptz NOT NULL,
            open numeric NOT NULL,
            high numeric NOT NULL,
            low numeric NOT NULL,
            close numeric NOT NULL,
            volume numeric NOT NULL,
            tick_count integer NOT NULL,
            CHECK (low <= open AND low <= close AND high >= open AND high >= close),
            PRIMARY KEY (instrument, timeframe_seconds, start_time)
        );
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
                CREATE EXTENSION IF NOT EXISTS timescaledb;
                PERFORM create_hypertable('ticks', 'time', if_not_exists => TRUE);
                PERFORM create_hypertable('bars', 'start_time', if_not_exists => TRUE);
            END IF;
        END
        $$;
        """),
        // The bar each instrument had open when a Wyckoff process stopped (its ticks' offsets
        // are committed by then): the next process resumes it instead of starting that bar
        // again from the first tick after the restart. One row per instrument and timeframe,
        // taken (deleted) by whoever resumes it.
        PostgresMigration(version: 2, name: "open_bars", sql: """
        CREATE TABLE open_bars (
            instrument text NOT NULL,
            timeframe_seconds integer NOT NULL CHECK (timeframe_seconds > 0),
            start_time timestamptz NOT NULL,
            open numeric NOT NULL,
            high numeric NOT NULL,
            low numeric NOT NULL,
            close numeric NOT NULL,
            volume numeric NOT NULL,
            tick_count integer NOT NULL,
            saved_at timestamptz NOT NULL DEFAULT now(),
            CHECK (low <= open AND low <= close AND high >= open AND high >= close),
            PRIMARY KEY (instrument, timeframe_seconds)
        );
        """),
        // Updates on config.updates that the Wyckoff agent refused, by envelope id: the log is
        // replayed at every start, and a refusal is dead-lettered only the first time (again at
        // each start, a few bad updates were a burst of dead letters, enough for the circuit
        // breaker's error rate to trip).
        PostgresMigration(version: 3, name: "config_update_refusals", sql: """
        CREATE TABLE config_update_refusals (
            update_id text PRIMARY KEY,
            service text NOT NULL,
            reason text NOT NULL,
            refused_at timestamptz NOT NULL DEFAULT now()
        );
        """),
        // Open bars per consumer group (a shadow instance's group has offsets of its own, so its
        // bars are not the live group's), with the last folded tick's time (a resumed bar skips
        // redelivered ticks up to it). The rows of version 2 had neither and are dropped: at
        // worst the bars open at the last stop start again, as before open bars were saved.
        PostgresMigration(version: 4, name: "open_bars_per_group", sql: """
        DROP TABLE open_bars;
        CREATE TABLE open_bars (
            consumer_group text NOT NULL,
            instrument text NOT NULL,
            timeframe_seconds integer NOT NULL CHECK (timeframe_seconds > 0),
            start_time timestamptz NOT NULL,
            open numeric NOT NULL,
            high numeric NOT NULL,
            low numeric NOT NULL,
            close numeric NOT NULL,
            volume numeric NOT NULL,
            tick_count integer NOT NULL,
            last_tick_time timestamptz NOT NULL,
            saved_at timestamptz NOT NULL DEFAULT now(),
            CHECK (low <= open AND low <= close AND high >= open AND high >= close),
            PRIMARY KEY (consumer_group, instrument, timeframe_seconds)
        );
        """),
    ]

    /// Applies the migrations with `pool` (idempotent; safe when several services start at once).
    @discardableResult
    public static func migrate(pool: PostgresPool, logger: Logger) throws -> PostgresMigrationReport {
        try PostgresMigrator(migrations: migrations, tableName: "market_schema_migrations", logger: logger).migrate(pool: pool)
    }
}
