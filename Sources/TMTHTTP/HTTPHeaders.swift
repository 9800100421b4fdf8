/// An ordered list of header fields with case-insensitive name lookup.
///
/// Order and repeats are kept as received (or as added), because some fields legitimately repeat
/// (`Set-Cookie`) and proxies care about order. Outgoing values are sanitised by the server when
/// the response is written (CR, LF and NUL removed), not here, so a handler reading back what it
/// set sees exactly that.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One header field.
    public struct Field: Sendable, Equatable {
        /// The field name as given (any case).
        public var name: String
        /// The field value, without leading or trailing whitespace.
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    private(set) var fields: [Field]

    /// No fields.
    public init() { fields = [] }

    /// Fields from `(name, value)` pairs, in order.
    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// Number of fields, counting repeats.
    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    /// The first value of `name` (any case). Setting replaces every field of that name; setting
    /// `nil` removes them.
    public subscript(name: String) -> String? {
        get {
            for f in fields where Self.namesEqual(f.name, name) { return f.value }
            return nil
        }
        set {
            if let newValue {
                if let i = fields.firstIndex(where: { Self.namesEqual($0.name, name) }) {
                    fields[i].value = newValue
                    var j = fields.count - 1
                    while j > i {
                        if Self.namesEqual(fields[j].name, name) { fields.remove(at: j) }
                        j -= 1
                    }
                } else {
                    fields.append(Field(name: name, value: newValue))
                }
            } else {
                remove(name)
            }
        }
    }

    /// Every value of `name` (any case), in order.
    public func values(_ name: String) -> [String] {
        fields.lazy.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    /// Whether a field called `name` (any case) is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { Self.namesEqual($0.name, name) }
    }

    /// Appends a field, keeping any existing fields of the same name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Removes every field called `name` (any case).
    public mutating func remove(_ name: String) {
        fields.removeAll { Self.namesEqual($0.name, name) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    /// ASCII case-insensitive comparison, which is what field names need (they are tokens).
    static func namesEqual(_ a: String, _ b: String) -> Bool {
        var ai = a.utf8.makeIterator()
        var bi = b.utf8.makeIterator()
        while true {
            switch (ai.next(), bi.next()) {
            case (nil, nil): return true
            case let (x?, y?):
                if x != y && lower(x) != lower(y) { return false }
            default: return false
            }
        }
    }

    @inline(__always)
    static func lower(_ c: UInt8) -> UInt8 {
        (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c
    }
}
