import TMTBase

/// One row of a query result, detached from libpq (safe to keep and pass between threads).
///
/// Decode columns by name or position:
/// ```swift
/// let balance = try row.decode(Decimal.self, column: "balance")
/// let note = try row.decode(String?.self, at: 2)
/// ```
/// Errors are `TMTError(.decoding, …)` naming the column and the types, never the value.
/// When a result has two columns of the same name (a join), `column:` finds the first; alias
/// them in SQL or use `at:`.
public struct PostgresRow: Sendable {
    let columns: PostgresColumns
    /// Text-format values; `nil` is NULL.
    let values: [String?]

    init(columns: PostgresColumns, values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// A row built by hand, e.g. to unit-test code that maps rows to domain types without a
    /// server. `values` are PostgreSQL text-format values (`nil` is NULL); `types` default to
    /// `.unknown`.
    public init(columnNames: [String], values: [String?], types: [PostgresDataType]? = nil) {
        precondition(columnNames.count == values.count, "PostgresRow: \(columnNames.count) column names but \(values.count) values")
        precondition(types == nil || types!.count == values.count, "PostgresRow: types must match the columns")
        self.columns = PostgresColumns(names: columnNames, types: types ?? Array(repeating: .unknown, count: values.count))
        self.values = values
    }

    /// The column names, in result order.
    public var columnNames: [String] { columns.names }
    /// The column types, in result order.
    public var columnTypes: [PostgresDataType] { columns.types }
    /// The number of columns.
    public var count: Int { values.count }

    /// Whether the named column exists in this row.
    public func contains(column name: String) -> Bool { columns.index[name] != nil }

    /// Decodes the named column.
    public func decode<T: PostgresDecodable>(_ type: T.Type, column name: String) throws -> T {
        guard let i = columns.index[name] else {
            throw TMTError(.decoding, "no column '\(name)' in the result (columns: \(columns.names.joined(separator: ", ")))")
        }
        return try decode(type, at: i)
    }

    /// Decodes the column at `index` (0-based).
    public func decode<T: PostgresDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard values.indices.contains(index) else {
            throw TMTError(.decoding, "column index \(index) is out of range (the result has \(values.count) columns)")
        }
        let name = columns.names[index]
        let columnType = columns.types[index]
        guard let text = values[index] else {
            if let null = T.postgresNull { return null }
            throw TMTError(.decoding, "column '\(name)': expected \(T.postgresTypeName), got NULL")
        }
        let decoded: T?
        do {
            decoded = try T.decodePostgres(text: text, type: columnType)
        } catch let failure as PostgresDecodingFailure {
            throw TMTError(.decoding, "column '\(name)': expected \(T.postgresTypeName), got \(columnType): \(failure.reason)")
        }
        if let decoded { return decoded }
        if columnType.description == T.postgresTypeName {
            throw TMTError(.decoding, "column '\(name)': expected \(T.postgresTypeName), got a \(columnType) value it cannot read")
        }
        throw TMTError(.decoding, "column '\(name)': expected \(T.postgresTypeName), got \(columnType)")
    }

    /// Decodes a `json`/`jsonb` column into a `Decodable` type.
    public func decodeJSON<T: Decodable>(_ type: T.Type, column name: String, decoder: JSONDecoder = PostgresJSON.defaultDecoder()) throws -> T {
        let json = try decode(PostgresJSON.self, column: name)
        do {
            return try json.decode(T.self, decoder: decoder)
        } catch let e as TMTError {
            throw TMTError(.decoding, "column '\(name)': \(e.message)", detail: e.detail)
        }
    }

    /// Whether the named column is NULL.
    public func isNull(column name: String) throws -> Bool {
        guard let i = columns.index[name] else {
            throw TMTError(.decoding, "no column '\(name)' in the result (columns: \(columns.names.joined(separator: ", ")))")
        }
        return values[i] == nil
    }
}

/// Column names and types of one result, shared by all its rows.
final class PostgresColumns: Sendable {
    let names: [String]
    let types: [PostgresDataType]
    let index: [String: Int]

    init(names: [String], types: [PostgresDataType]) {
        self.names = names
        self.types = types
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }
        self.index = index
    }
}
