/// One name/value pair of a query string, percent-decoded (`+` decoded as a space).
public struct HTTPQueryItem: Sendable, Equatable {
    /// The decoded name.
    public var name: String
    /// The decoded value; empty for a bare `flag` item.
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
