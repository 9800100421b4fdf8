/// What one `PostgresMigrator.migrate` run did.
public struct PostgresMigrationReport: Sendable, Equatable {
    /// Migrations this run applied, in order.
    public var applied: [PostgresMigration]
    /// Migrations that were already recorded (by an earlier run or a concurrent process).
    public var alreadyApplied: [PostgresMigration]
    /// Versions recorded in the database that this migration set does not contain, e.g. after a
    /// rollback to an older release. They are left alone.
    public var unknownVersions: [Int]

    public init(applied: [PostgresMigration] = [], alreadyApplied: [PostgresMigration] = [], unknownVersions: [Int] = []) {
        self.applied = applied
        self.alreadyApplied = alreadyApplied
        self.unknownVersions = unknownVersions
    }
}
