import TMTBase

/// The fields of an error reported by the server (or by libpq), and the one place that decides
/// which of them may appear in a `TMTError`'s `message`.
///
/// The rules: the message names the operation, the SQLSTATE and its condition, and the schema
/// objects involved (table, column, constraint), which the server reports separately and which
/// are identifiers, not data. The server's primary message goes into the message only for
/// classes whose messages are about SQL text and state rather than values (syntax, missing
/// objects, transaction state, timeouts, …); for everything else (data exceptions, constraint
/// violations, `RAISE`) it is only in `detail`. The server's DETAIL field (e.g. `Key (id)=(…)`)
/// holds row values and is never kept at all. The password is scrubbed from everything.
struct PostgresServerError: Sendable {
    var sqlState: String?
    var primary: String?
    var hint: String?
    var schema: String?
    var table: String?
    var column: String?
    var constraint: String?

    /// Classes whose primary messages do not quote parameter or row values.
    static let messageSafeClasses: Set<String> = ["08", "0A", "25", "28", "3D", "3F", "40", "42", "53", "55", "57"]

    /// A `TMTError` for a failed `operation` (`query`, `execute`, `COMMIT`, …).
    func error(operation: String, connectionLost: Bool, password: String?) -> TMTError {
        let scrub = { (s: String) in Self.scrub(s, password: password) }
        var detail: String?
        if let primary {
            let cleaned = scrub(Self.oneLine(primary))
            detail = sqlState.map { "SQLSTATE \($0): \(cleaned)" } ?? cleaned
            if let hint { detail! += " (hint: \(scrub(Self.oneLine(hint))))" }
        } else if let sqlState {
            detail = "SQLSTATE \(sqlState)"
        }

        if connectionLost {
            return TMTError(.connection,
                            "connection to PostgreSQL lost during \(operation); a write in flight may or may not have been applied",
                            detail: detail)
        }

        var message = "\(operation) failed"
        if let sqlState {
            message += ": \(PostgresSQLState.conditionName(sqlState)) (SQLSTATE \(sqlState))"
        } else {
            message += ": client error"
        }
        var objects: [String] = []
        if let table { objects.append("table '\(schema.map { "\($0)." } ?? "")\(table)'") }
        if let column { objects.append("column '\(column)'") }
        if let constraint { objects.append("constraint '\(constraint)'") }
        if !objects.isEmpty { message += " on " + objects.joined(separator: ", ") }
        if let primary, let sqlState, Self.messageSafeClasses.contains(String(sqlState.prefix(2))) {
            message += ": " + scrub(Self.oneLine(primary))
        } else if let primary, sqlState == nil {
            // libpq's own messages (no SQLSTATE) describe the client's state, never values.
            message += ": " + scrub(Self.oneLine(primary))
        }
        let code: TMTError.Code = sqlState == PostgresSQLState.queryCanceled ? .timeout : .query
        return TMTError(code, message, detail: detail)
    }

    /// Replaces every occurrence of the password with `***`.
    static func scrub(_ s: String, password: String?) -> String {
        guard let password, !password.isEmpty, s.contains(password) else { return s }
        return s.replacing(password, with: "***")
    }

    /// libpq messages end in newlines and sometimes span lines; logs want one.
    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
