/// A PostgreSQL data type, identified by its OID (`pg_type.oid`).
///
/// Parameters carry one so the server parses their text unambiguously; result columns report
/// one so decoders and error messages can name it. `.unknown` (OID 0) lets the server infer a
/// parameter's type from the context.
public struct PostgresDataType: Hashable, Sendable, CustomStringConvertible {
    /// The type's OID.
    public let oid: UInt32

    public init(oid: UInt32) { self.oid = oid }

    /// OID 0: the server infers the type from how the parameter is used.
    public static let unknown = PostgresDataType(oid: 0)
    public static let bool = PostgresDataType(oid: 16)
    public static let bytea = PostgresDataType(oid: 17)
    public static let name = PostgresDataType(oid: 19)
    public static let int8 = PostgresDataType(oid: 20)
    public static let int2 = PostgresDataType(oid: 21)
    public static let int4 = PostgresDataType(oid: 23)
    public static let text = PostgresDataType(oid: 25)
    public static let oidType = PostgresDataType(oid: 26)
    public static let json = PostgresDataType(oid: 114)
    public static let float4 = PostgresDataType(oid: 700)
    public static let float8 = PostgresDataType(oid: 701)
    public static let bpchar = PostgresDataType(oid: 1042)
    public static let varchar = PostgresDataType(oid: 1043)
    public static let date = PostgresDataType(oid: 1082)
    public static let time = PostgresDataType(oid: 1083)
    public static let timestamp = PostgresDataType(oid: 1114)
    public static let timestamptz = PostgresDataType(oid: 1184)
    public static let interval = PostgresDataType(oid: 1186)
    public static let numeric = PostgresDataType(oid: 1700)
    public static let uuid = PostgresDataType(oid: 2950)
    public static let jsonb = PostgresDataType(oid: 3802)

    public static let boolArray = PostgresDataType(oid: 1000)
    public static let byteaArray = PostgresDataType(oid: 1001)
    public static let int2Array = PostgresDataType(oid: 1005)
    public static let int4Array = PostgresDataType(oid: 1007)
    public static let textArray = PostgresDataType(oid: 1009)
    public static let varcharArray = PostgresDataType(oid: 1015)
    public static let int8Array = PostgresDataType(oid: 1016)
    public static let float4Array = PostgresDataType(oid: 1021)
    public static let float8Array = PostgresDataType(oid: 1022)
    public static let timestampArray = PostgresDataType(oid: 1115)
    public static let dateArray = PostgresDataType(oid: 1182)
    public static let timestamptzArray = PostgresDataType(oid: 1185)
    public static let numericArray = PostgresDataType(oid: 1231)
    public static let uuidArray = PostgresDataType(oid: 2951)
    public static let jsonArray = PostgresDataType(oid: 199)
    public static let jsonbArray = PostgresDataType(oid: 3807)

    private static let elementToArray: [UInt32: UInt32] = [
        16: 1000, 17: 1001, 21: 1005, 23: 1007, 25: 1009, 1043: 1015, 20: 1016, 700: 1021, 701: 1022,
        1114: 1115, 1082: 1182, 1184: 1185, 1700: 1231, 2950: 2951, 114: 199, 3802: 3807,
    ]
    private static let arrayToElement: [UInt32: UInt32] = Dictionary(uniqueKeysWithValues: elementToArray.map { ($0.value, $0.key) })

    private static let names: [UInt32: String] = [
        0: "unknown", 16: "bool", 17: "bytea", 19: "name", 20: "int8", 21: "int2", 23: "int4", 25: "text",
        26: "oid", 114: "json", 700: "float4", 701: "float8", 1042: "bpchar", 1043: "varchar", 1082: "date",
        1083: "time", 1114: "timestamp", 1184: "timestamptz", 1186: "interval", 1700: "numeric", 2950: "uuid",
        3802: "jsonb",
    ]

    /// The array type whose elements are this type (`int8` → `int8[]`), when known.
    public var arrayType: PostgresDataType? {
        Self.elementToArray[oid].map(PostgresDataType.init(oid:))
    }

    /// The element type when this is a known array type (`text[]` → `text`).
    public var elementType: PostgresDataType? {
        Self.arrayToElement[oid].map(PostgresDataType.init(oid:))
    }

    /// The type name as `pg_type` spells it (`int8`, `numeric`, `text[]`), or `type oid N`.
    public var description: String {
        if let n = Self.names[oid] { return n }
        if let e = elementType { return "\(e)[]" }
        return "type oid \(oid)"
    }

    /// Integer types: a value of one of them decodes into any Swift integer it fits.
    var isInteger: Bool { self == .int2 || self == .int4 || self == .int8 || self == .oidType }
}
