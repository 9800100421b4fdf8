import TMTBase

/// SQLSTATE codes callers commonly branch on, and how to read one from a `TMTError`.
///
/// ```swift
/// do { try conn.execute("INSERT INTO orders (id) VALUES ($1)", [id]) }
/// catch let e as TMTError where e.sqlState == PostgresSQLState.uniqueViolation { /* duplicate */ }
/// ```
public enum PostgresSQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let notNullViolation = "23502"
    public static let checkViolation = "23514"
    public static let exclusionViolation = "23P01"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let queryCanceled = "57014"
    public static let lockNotAvailable = "55P03"
    public static let adminShutdown = "57P01"
    public static let undefinedTable = "42P01"
    public static let duplicateTable = "42P07"
    public static let insufficientPrivilege = "42501"
    public static let invalidTextRepresentation = "22P02"

    /// The condition name of a SQLSTATE (`23505` → `unique_violation`), or its class's.
    public static func conditionName(_ code: String) -> String {
        if let n = names[code] { return n }
        if let c = classNames[String(code.prefix(2))] { return c }
        return "error"
    }

    private static let names: [String: String] = [
        "01000": "warning", "08000": "connection_exception", "08003": "connection_does_not_exist",
        "08006": "connection_failure", "08001": "sqlclient_unable_to_establish_sqlconnection",
        "08004": "sqlserver_rejected_establishment_of_sqlconnection", "08P01": "protocol_violation",
        "0A000": "feature_not_supported", "21000": "cardinality_violation",
        "22001": "string_data_right_truncation", "22003": "numeric_value_out_of_range",
        "22007": "invalid_datetime_format", "22008": "datetime_field_overflow", "22012": "division_by_zero",
        "22021": "character_not_in_repertoire", "22023": "invalid_parameter_value",
        "22P02": "invalid_text_representation", "22P05": "untranslatable_character",
        "23000": "integrity_constraint_violation", "23001": "restrict_violation", "23502": "not_null_violation",
        "23503": "foreign_key_violation", "23505": "unique_violation", "23514": "check_violation",
        "23P01": "exclusion_violation", "25001": "active_sql_transaction", "25006": "read_only_sql_transaction",
        "25P01": "no_active_sql_transaction", "25P02": "in_failed_sql_transaction",
        "28000": "invalid_authorization_specification", "28P01": "invalid_password",
        "3D000": "invalid_catalog_name", "3F000": "invalid_schema_name", "40000": "transaction_rollback",
        "40001": "serialization_failure", "40002": "transaction_integrity_constraint_violation",
        "40P01": "deadlock_detected", "42000": "syntax_error_or_access_rule_violation",
        "42501": "insufficient_privilege", "42601": "syntax_error", "42701": "duplicate_column",
        "42702": "ambiguous_column", "42703": "undefined_column", "42704": "undefined_object",
        "42710": "duplicate_object", "42725": "ambiguous_function", "42804": "datatype_mismatch",
        "42846": "cannot_coerce", "42883": "undefined_function", "42P01": "undefined_table",
        "42P02": "undefined_parameter", "42P07": "duplicate_table", "42P08": "ambiguous_parameter",
        "42P18": "indeterminate_datatype", "53000": "insufficient_resources", "53100": "disk_full",
        "53200": "out_of_memory", "53300": "too_many_connections", "55000": "object_not_in_prerequisite_state",
        "55P03": "lock_not_available", "57014": "query_canceled", "57P01": "admin_shutdown",
        "57P02": "crash_shutdown", "57P03": "cannot_connect_now", "P0001": "raise_exception",
        "P0002": "no_data_found", "P0003": "too_many_rows", "XX000": "internal_error",
    ]

    private static let classNames: [String: String] = [
        "08": "connection_exception", "0A": "feature_not_supported", "22": "data_exception",
        "23": "integrity_constraint_violation", "25": "invalid_transaction_state",
        "28": "invalid_authorization_specification", "40": "transaction_rollback",
        "42": "syntax_error_or_access_rule_violation", "53": "insufficient_resources",
        "54": "program_limit_exceeded", "55": "object_not_in_prerequisite_state",
        "57": "operator_intervention", "58": "system_error", "P0": "plpgsql_error", "XX": "internal_error",
    ]
}

extension TMTError {
    /// The SQLSTATE of a PostgreSQL server error (e.g. `23505`), or `nil` for other errors.
    /// Errors from this module carry it at the start of `detail` as `SQLSTATE 23505: …`.
    public var sqlState: String? {
        guard let detail, detail.hasPrefix("SQLSTATE ") else { return nil }
        let code = detail.dropFirst("SQLSTATE ".count).prefix(5)
        guard code.count == 5, code.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isUppercase) }) else { return nil }
        return String(code)
    }

    /// A unique or primary-key constraint rejected the row (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == PostgresSQLState.uniqueViolation }

    /// The transaction lost a serialization conflict or a deadlock (SQLSTATE 40001/40P01): it
    /// was rolled back entirely, and running it again from the start is safe.
    public var isRetryableTransactionFailure: Bool {
        sqlState == PostgresSQLState.serializationFailure || sqlState == PostgresSQLState.deadlockDetected
    }
}
