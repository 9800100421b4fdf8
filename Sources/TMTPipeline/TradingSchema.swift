import TMTCore

/// The trading database's schema, as versioned migrations every service that uses the database
/// applies at start-up under the migrator's advisory lock (ARCHITECTURE.md, "Data").
///
/// Conventions: money and prices are `numeric` (exact, mapped to `Decimal`); times are
/// `timestamptz`; every row that comes from a message is keyed by that message's deterministic id,
/// so a redelivered message's write is a no-op (`ON CONFLICT DO NOTHING`) and effects stay
/// idempotent under at-least-once delivery. Decision trails and evidence are `jsonb`.
public enum TradingSchema {
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(version: 1, name: "trading_core", sql: """
        CREATE TABLE accounts (
            id text PRIMARY KEY,
            firm text NOT NULL,
            currency text NOT NULL CHECK (length(currency) = 3),
            initial_balance numeric NOT NULL CHECK (initial_balance > 0),
            balance numeric NOT NULL,
            equity numeric NOT NULL,
            daily_pnl numeric NOT NULL DEFAULT 0,
            high_water_mark numeric NOT NULL,
            realized_pnl numeric NOT NULL DEFAULT 0,
            commission numeric NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE signals (
            id text PRIMARY KEY,
            instrument text NOT NULL,
            side text NOT NULL CHECK (side IN ('buy', 'sell')),
            entry numeric NOT NULL,
            stop_loss numeric NOT NULL,
            take_profit numeric NOT NULL,
            confidence double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
            pattern text NOT NULL,
            phase text NOT NULL,
            evidence jsonb NOT NULL DEFAULT '{}',
            trace_id text NOT NULL,
            created_at timestamptz NOT NULL
        );
        CREATE INDEX signals_instrument_time ON signals (instrument, created_at DESC);

        CREATE TABLE orders (
            id text PRIMARY KEY,
            signal_id text REFERENCES signals (id),
            account_id text NOT NULL REFERENCES accounts (id),
            instrument text NOT NULL,
            side text NOT NULL CHECK (side IN ('buy', 'sell')),
            type text NOT NULL CHECK (type IN ('market', 'limit', 'stop')),
            quantity numeric NOT NULL CHECK (quantity >= 0),
            price numeric,
            stop_loss numeric,
            take_profit numeric,
            risk_reducing boolean NOT NULL DEFAULT false,
            status text NOT NULL,
            filled_quantity numeric NOT NULL DEFAULT 0,
            decisions jsonb NOT NULL DEFAULT '[]',
            hops jsonb NOT NULL DEFAULT '[]',
            trace_id text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX orders_account_time ON orders (account_id, created_at DESC);
        CREATE INDEX orders_status ON orders (status);

        -- One row per agent verdict or status change, keyed by the message that caused it.
        CREATE TABLE order_events (
            id bigserial PRIMARY KEY,
            message_id text NOT NULL UNIQUE,
            order_id text NOT NULL,
            agent text NOT NULL,
            status text NOT NULL,
            verdict text,
            detail jsonb NOT NULL DEFAULT '{}',
            processing_ms double precision,
            at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX order_events_order ON order_events (order_id, id);

        CREATE TABLE fills (
            id text PRIMARY KEY,
            order_id text NOT NULL REFERENCES orders (id),
            account_id text NOT NULL REFERENCES accounts (id),
            instrument text NOT NULL,
            side text NOT NULL CHECK (side IN ('buy', 'sell')),
            quantity numeric NOT NULL CHECK (quantity > 0),
            price numeric NOT NULL,
            spread numeric NOT NULL,
            slippage numeric NOT NULL,
            commission numeric NOT NULL,
            realized_pnl numeric NOT NULL DEFAULT 0,
            filled_at timestamptz NOT NULL
        );
        CREATE INDEX fills_account_time ON fills (account_id, filled_at DESC);
        CREATE INDEX fills_order ON fills (order_id);

        CREATE TABLE positions (
            account_id text NOT NULL REFERENCES accounts (id),
            instrument text NOT NULL,
            quantity numeric NOT NULL,
            average_price numeric NOT NULL,
            realized_pnl numeric NOT NULL DEFAULT 0,
            opened_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, instrument)
        );

        CREATE TABLE account_snapshots (
            id bigserial PRIMARY KEY,
            account_id text NOT NULL REFERENCES accounts (id),
            balance numeric NOT NULL,
            equity numeric NOT NULL,
            daily_pnl numeric NOT NULL,
            drawdown_percent numeric NOT NULL,
            at timestamptz NOT NULL
        );
        CREATE INDEX account_snapshots_account_time ON account_snapshots (account_id, at DESC);

        CREATE TABLE compliance_decisions (
            order_id text PRIMARY KEY,
            account_id text NOT NULL,
            firm text NOT NULL,
            verdict text NOT NULL,
            mode text NOT NULL,
            checks jsonb NOT NULL,
            figures jsonb NOT NULL DEFAULT '{}',
            decided_at timestamptz NOT NULL
        );
        CREATE INDEX compliance_decisions_account_time ON compliance_decisions (account_id, decided_at DESC);

        CREATE TABLE breaker_events (
            id text PRIMARY KEY,
            tier text NOT NULL CHECK (tier IN ('agent', 'account', 'system')),
            target text NOT NULL,
            from_state text NOT NULL,
            to_state text NOT NULL,
            reason text NOT NULL,
            detail jsonb NOT NULL DEFAULT '{}',
            at timestamptz NOT NULL
        );
        CREATE INDEX breaker_events_time ON breaker_events (at DESC);

        CREATE TABLE experiments (
            id text PRIMARY KEY,
            service text NOT NULL,
            parameters jsonb NOT NULL,
            status text NOT NULL,
            rollout_percent integer NOT NULL DEFAULT 0 CHECK (rollout_percent BETWEEN 0 AND 100),
            baseline jsonb NOT NULL DEFAULT '{}',
            results jsonb NOT NULL DEFAULT '{}',
            p_value double precision,
            improvement_percent double precision,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE news_events (
            id text PRIMARY KEY,
            time timestamptz NOT NULL,
            currency text NOT NULL,
            title text NOT NULL,
            impact text NOT NULL CHECK (impact IN ('high', 'medium', 'low'))
        );
        CREATE INDEX news_events_time ON news_events (time);

        -- Every mutation through the API: who, what, when, result.
        CREATE TABLE audit_log (
            id bigserial PRIMARY KEY,
            actor text NOT NULL,
            action text NOT NULL,
            target text,
            result text NOT NULL,
            detail jsonb NOT NULL DEFAULT '{}',
            at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX audit_log_time ON audit_log (at DESC);
        """),
        // The circuit breaker also keeps one breaker per instrument (price gaps, volatility).
        PostgresMigration(version: 2, name: "breaker_events_instrument_tier", sql: """
        ALTER TABLE breaker_events DROP CONSTRAINT breaker_events_tier_check;
        ALTER TABLE breaker_events ADD CONSTRAINT breaker_events_tier_check
            CHECK (tier IN ('agent', 'account', 'system', 'instrument'));
        """),
        // The execution engine restores its working orders and each position's protective levels
        // after a restart: the working state travels with the order row, the levels with the position.
        PostgresMigration(version: 3, name: "execution_restart_state", sql: """
        ALTER TABLE orders ADD COLUMN working jsonb;
        CREATE INDEX orders_working ON orders (account_id) WHERE working IS NOT NULL;
        ALTER TABLE positions ADD COLUMN stop_loss numeric;
        ALTER TABLE positions ADD COLUMN take_profit numeric;
        ALTER TABLE positions ADD COLUMN source_order_id text;
        ALTER TABLE positions ADD COLUMN source_signal_id text;
        -- The firm trading day (its label) the account row's daily P&L belongs to.
        ALTER TABLE accounts ADD COLUMN trading_day text;
        """),
        // Continuous improvement: the latest trade statistics per pattern, instrument and account,
        // and what a staged rollout needs to resume after a restart (its stage, when the stage
        // started, and the config updates stored but not yet acknowledged by the broker).
        PostgresMigration(version: 4, name: "improvement_analytics_and_rollout", sql: """
        CREATE TABLE analytics (
            dimension text NOT NULL CHECK (dimension IN ('overall', 'pattern', 'instrument', 'account')),
            key text NOT NULL,
            trades integer NOT NULL,
            wins integer NOT NULL,
            losses integer NOT NULL,
            win_rate double precision NOT NULL,
            profit_factor double precision,
            profit_factor_infinite boolean NOT NULL DEFAULT false,
            gross_profit numeric NOT NULL,
            gross_loss numeric NOT NULL,
            net_profit numeric NOT NULL,
            expectancy numeric NOT NULL,
            mean_return double precision NOT NULL,
            sharpe double precision,
            max_drawdown numeric NOT NULL,
            max_drawdown_percent double precision NOT NULL,
            first_exit_at timestamptz,
            last_exit_at timestamptz,
            computed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (dimension, key)
        );
        ALTER TABLE experiments ADD COLUMN rollout_stage integer;
        ALTER TABLE experiments ADD COLUMN stage_started_at timestamptz;
        ALTER TABLE experiments ADD COLUMN outbox jsonb;
        CREATE INDEX experiments_status ON experiments (status);
        """),
        // One rollout per service at a time, held by the database: two approvals racing past the
        // agent's check cannot both start one (the second gets a unique violation, answered 409).
        PostgresMigration(version: 5, name: "experiments_one_rolling_per_service", sql: """
        CREATE UNIQUE INDEX experiments_one_rolling_per_service ON experiments (service) WHERE status = 'rolling';
        """),
        // Each agent instance that applied a `staging.commands` message (a day reset) says so
        // here; the gateway answers the operator from these rows, and a redelivery is skipped.
        PostgresMigration(version: 6, name: "staging_command_acks", sql: """
        CREATE TABLE staging_command_acks (
            command_id text NOT NULL,
            agent text NOT NULL,
            instance text NOT NULL,
            action text NOT NULL,
            detail text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (command_id, agent, instance)
        );
        """),
        // `account.restart`: an account starts again from its initial balance as a new challenge
        // (epoch + 1). Its fills keep the epoch they were booked in, so trades replayed from the
        // fills (continuous improvement's analytics) pair fills within one challenge: a position
        // dropped at a restart never closes against the next challenge's fills.
        PostgresMigration(version: 7, name: "account_epochs", sql: """
        ALTER TABLE accounts ADD COLUMN epoch integer NOT NULL DEFAULT 0 CHECK (epoch >= 0);
        ALTER TABLE accounts ADD COLUMN restarted_at timestamptz;
        ALTER TABLE fills ADD COLUMN account_epoch integer NOT NULL DEFAULT 0;
        CREATE INDEX fills_account_epoch ON fills (account_id, account_epoch);
        """),
        // The gateway's newest-first pages (`/api/v1/orders`, fills, signals, violations) without
        // an account filter: ORDER BY time DESC, id DESC LIMIT n read the whole table and sorted it
        // (orders carry their decision trails: 4,225 orders, 21 MB, ~15 ms in PostgreSQL and
        // 36–41 ms per page through the gateway, growing with every order a staging run adds).
        PostgresMigration(version: 8, name: "newest_first_page_indexes", sql: """
        CREATE INDEX orders_time ON orders (created_at DESC, id DESC);
        CREATE INDEX fills_time ON fills (filled_at DESC, id DESC);
        CREATE INDEX signals_time ON signals (created_at DESC, id DESC);
        CREATE INDEX compliance_decisions_time ON compliance_decisions (decided_at DESC, order_id DESC);
        """),
        // The equity at the start of the account's trading day (`trading_day`), stored by the
        // execution engine when it starts the day, so the compliance engine measures a firm's
        // daily loss from the day's real start even when its first look comes later.
        PostgresMigration(version: 9, name: "day_start_equity", sql: """
        ALTER TABLE accounts ADD COLUMN day_start_equity numeric;
        """),
        // `positions.opened_at` is the market time of the fill that opened the position (the
        // execution engine's clock, which a simulated market runs ahead of or behind the wall
        // clock); rows from before held the wall-clock time of the write, which a minimum-hold
        // rule cannot compare with market time: unknown (NULL) instead.
        PostgresMigration(version: 10, name: "positions_opened_at_market_time", sql: """
        UPDATE positions SET opened_at = NULL WHERE opened_at IS NOT NULL;
        """),
        // The circuit breaker's applied operator commands. Every start replays breaker.commands
        // from the beginning and skips the ids it has applied; those lived only in its Redis
        // snapshot, so a lost snapshot re-applied every command in the log (a flatten too).
        PostgresMigration(version: 11, name: "breaker_commands", sql: """
        CREATE TABLE breaker_commands (
            id text PRIMARY KEY,
            action text NOT NULL,
            tier text NOT NULL,
            target text,
            requested_by text NOT NULL,
            reason text NOT NULL,
            issued_at timestamptz NOT NULL,
            message text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX breaker_commands_applied ON breaker_commands (applied_at DESC);
        """),
        // Fills in the order they were stored (the execution engine books them one transaction
        // at a time): continuous improvement reads only the fills new since its last analytics
        // run instead of every fill there is, every second.
        PostgresMigration(version: 12, name: "fills_seq", sql: """
        ALTER TABLE fills ADD COLUMN seq bigserial;
        CREATE INDEX fills_seq ON fills (seq);
        """),
        // Each open position marked to the market, as the execution engine last valued it: the
        // price it would close at (bid for a long, ask for a short) and its unrealised P&L in
        // the account's currency. Written at each fill and with the account's periodic marks;
        // NULL until first marked (no quote for the instrument yet) and on a flat position.
        PostgresMigration(version: 13, name: "positions_marks", sql: """
        ALTER TABLE positions ADD COLUMN mark_price numeric, ADD COLUMN unrealized_pnl numeric, ADD COLUMN marked_at timestamptz;
        """),
    ]

    /// Applies the migrations with `pool` (idempotent; safe when several services start at once).
    @discardableResult
    public static func migrate(pool: PostgresPool, logger: Logger) throws -> PostgresMigrationReport {
        try PostgresMigrator(migrations: migrations, tableName: "trading_schema_migrations", logger: logger).migrate(pool: pool)
    }
}
