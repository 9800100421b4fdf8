import Foundation
import TMTCore

/// A trigger of one test run that makes the database refuse (RAISE, SQLSTATE P0001) inserts into
/// (or, with `event: "UPDATE"`, updates of) `table` whose `column` value is listed in `<table>_test_refusals`, so a test can make a
/// service's writes fail and succeed again at will. `remove()` (also on deinit) drops the
/// trigger, its function and this run's listed values; its names are the run's own, so runs do
/// not remove each other's.
final class RefusingTrigger {
    let pool: PostgresPool
    let table: String
    let column: String
    let refusals: String
    let name: String
    private var listed: [any PostgresEncodable] = []

    /// - Parameters:
    ///   - type: the SQL type of `column` (the refusals table's key).
    ///   - event: `INSERT` or `UPDATE`.
    init(pool: PostgresPool, table: String, column: String, type: String, event: String = "INSERT") throws {
        precondition(["INSERT", "UPDATE"].contains(event), "event must be INSERT or UPDATE")
        self.pool = pool
        self.table = table
        self.column = column
        refusals = "\(table)_test_refusals"
        name = "test_refuse_\(table)_\(UUID().uuidString.prefix(8).lowercased())"
        // Left behind by a run that was killed before it removed its own.
        for row in try pool.query("SELECT tgname FROM pg_trigger WHERE tgname LIKE $1", ["test_refuse_\(table)_%"]) {
            let stale = try row.decode(String.self, column: "tgname")
            _ = try pool.execute("DROP TRIGGER IF EXISTS \(stale) ON \(table)")
            _ = try pool.execute("DROP FUNCTION IF EXISTS \(stale)()")
        }
        _ = try pool.execute("CREATE TABLE IF NOT EXISTS \(refusals) (value \(type) PRIMARY KEY)")
        _ = try pool.execute("""
            CREATE OR REPLACE FUNCTION \(name)() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM \(refusals) WHERE value = NEW.\(column)) THEN
                    RAISE EXCEPTION 'test: % row refused', TG_TABLE_NAME;
                END IF;
                RETURN NEW;
            END $$
            """)
        _ = try pool.execute("CREATE TRIGGER \(name) BEFORE \(event) ON \(table) FOR EACH ROW EXECUTE FUNCTION \(name)()")
    }

    /// Refuses rows with `value` from now on.
    func refuse(_ value: some PostgresEncodable) throws {
        listed.append(value)
        _ = try pool.execute("INSERT INTO \(refusals) VALUES ($1) ON CONFLICT DO NOTHING", [value])
    }

    /// Takes rows with `value` again.
    func accept(_ value: some PostgresEncodable) throws {
        _ = try pool.execute("DELETE FROM \(refusals) WHERE value = $1", [value])
    }

    func remove() {
        _ = try? pool.execute("DROP TRIGGER IF EXISTS \(name) ON \(table)")
        _ = try? pool.execute("DROP FUNCTION IF EXISTS \(name)()")
        for value in listed { _ = try? pool.execute("DELETE FROM \(refusals) WHERE value = $1", [value]) }
        listed = []
    }

    deinit { remove() }
}
