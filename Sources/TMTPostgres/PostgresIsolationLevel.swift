/// A transaction isolation level (`BEGIN ISOLATION LEVEL …`).
public enum PostgresIsolationLevel: String, Sendable, CaseIterable {
    /// Each statement sees data committed before it began (PostgreSQL's default).
    case readCommitted = "READ COMMITTED"
    /// The whole transaction sees one snapshot; concurrent updates to the same rows fail with
    /// SQLSTATE 40001.
    case repeatableRead = "REPEATABLE READ"
    /// As if transactions ran one at a time; conflicts fail with SQLSTATE 40001 and should be
    /// retried (`PostgresPool.transaction(maxAttempts:)`).
    case serializable = "SERIALIZABLE"
}
