import Dispatch
import FoundationEssentials
import Glibc

/// Environment variables, read strictly: a value that is present but malformed stops start-up
/// with an error naming the variable, instead of silently falling back to a default.
public struct Environment: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    private func fail(_ key: String, _ expected: String, _ raw: String) -> TMTError {
        TMTError(.configuration, "environment variable \(key): expected \(expected), got '\(raw)'")
    }

    /// The raw value; empty strings count as unset.
    public func string(_ key: String) -> String? {
        guard let v = values[key], !v.isEmpty else { return nil }
        return v
    }

    public func string(_ key: String, default def: String) -> String { string(key) ?? def }

    /// A required variable.
    public func require(_ key: String) throws -> String {
        guard let v = string(key) else { throw TMTError(.configuration, "environment variable \(key) is required but not set") }
        return v
    }

    /// `true/false/1/0/yes/no/on/off` (any case).
    public func bool(_ key: String, default def: Bool) throws -> Bool {
        guard let raw = string(key) else { return def }
        guard let v = Environment.parseBool(raw) else { throw fail(key, "true or false", raw) }
        return v
    }

    public func int(_ key: String, default def: Int, range: ClosedRange<Int>? = nil) throws -> Int {
        guard let raw = string(key) else { return def }
        guard let v = Int(raw.trimmingWhitespace()) else { throw fail(key, "an integer", raw) }
        if let range, !range.contains(v) { throw fail(key, "an integer in \(range.lowerBound)...\(range.upperBound)", raw) }
        return v
    }

    public func double(_ key: String, default def: Double, range: ClosedRange<Double>? = nil) throws -> Double {
        guard let raw = string(key) else { return def }
        guard let v = Double(raw.trimmingWhitespace()), v.isFinite else { throw fail(key, "a number", raw) }
        if let range, !range.contains(v) { throw fail(key, "a number in \(range.lowerBound)...\(range.upperBound)", raw) }
        return v
    }

    /// Reads a secret from `KEY`, or from the file named by `KEY_FILE` (Docker secrets style).
    /// The value is never logged.
    public func secret(_ key: String) throws -> String? {
        if let v = string(key) { return v }
        guard let path = string(key + "_FILE") else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TMTError(.configuration, "environment variable \(key)_FILE: cannot read \(path)")
        }
        return text.trimmingWhitespace()
    }

    public static func parseBool(_ raw: String) -> Bool? {
        switch raw.trimmingWhitespace().lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }
}

/// A position in a parsed YAML configuration file with typed, strict accessors. Every error
/// names the file, the line and the dotted key.
public struct ConfigNode: Sendable {
    public let file: String
    public let path: String
    public let node: YAMLNode

    public init(file: String, path: String = "", node: YAMLNode) {
        self.file = file
        self.path = path
        self.node = node
    }

    /// Loads `path` as a configuration document.
    public static func load(path: String) throws -> ConfigNode {
        ConfigNode(file: path, node: try YAMLReader.load(path: path))
    }

    public func error(_ message: String, key: String? = nil, line: Int? = nil) -> YAMLError {
        let k = key.map { path.isEmpty ? $0 : "\(path).\($0)" } ?? path
        return YAMLError(file: file, line: line ?? node.line, key: k, message: message)
    }

    /// Fails on any key not in `allowed`, naming it: typos in configuration must not pass silently.
    public func allowOnly(_ allowed: Set<String>) throws(YAMLError) {
        guard case .mapping(let entries, _) = node else {
            throw error("expected a mapping")
        }
        for e in entries where !allowed.contains(e.key) {
            throw error("unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))", key: e.key, line: e.line)
        }
    }

    public func child(_ key: String) -> ConfigNode? {
        guard let n = node[key] else { return nil }
        return ConfigNode(file: file, path: path.isEmpty ? key : "\(path).\(key)", node: n)
    }

    public func require(_ key: String) throws(YAMLError) -> ConfigNode {
        guard let c = child(key) else { throw error("required key is missing", key: key) }
        return c
    }

    /// The entries of a mapping, as child nodes keyed by name, in file order.
    public var children: [(key: String, node: ConfigNode)] {
        node.entries.map { ($0.key, ConfigNode(file: file, path: path.isEmpty ? $0.key : "\(path).\($0.key)", node: $0.value)) }
    }

    /// The items of a sequence.
    public func items() throws(YAMLError) -> [ConfigNode] {
        guard case .sequence(let items, _) = node else { throw error("expected a sequence") }
        return items.enumerated().map { ConfigNode(file: file, path: "\(path)[\($0.offset)]", node: $0.element) }
    }

    /// This node as a non-empty scalar string.
    public func asString() throws(YAMLError) -> String {
        guard case .scalar(let s?, _) = node else { throw error("expected a value") }
        return s
    }

    public func asInt() throws(YAMLError) -> Int {
        let s = try asString()
        guard let v = Int(s) else { throw error("expected an integer, got '\(s)'") }
        return v
    }

    public func asDouble() throws(YAMLError) -> Double {
        let s = try asString()
        guard let v = Double(s), v.isFinite else { throw error("expected a number, got '\(s)'") }
        return v
    }

    public func asDecimal() throws(YAMLError) -> Decimal {
        let s = try asString()
        guard let v = Decimal(string: s), s.allSatisfy({ "0123456789.-+".contains($0) }) else {
            throw error("expected a decimal number, got '\(s)'")
        }
        return v
    }

    public func asBool() throws(YAMLError) -> Bool {
        let s = try asString()
        guard let v = Environment.parseBool(s) else { throw error("expected true or false, got '\(s)'") }
        return v
    }

    public func string(_ key: String, default def: String? = nil) throws(YAMLError) -> String {
        if let c = child(key), c.node.string != nil { return try c.asString() }
        if let def { return def }
        throw error("required key is missing", key: key)
    }

    public func int(_ key: String, default def: Int? = nil) throws(YAMLError) -> Int {
        if let c = child(key), c.node.string != nil { return try c.asInt() }
        if let def { return def }
        throw error("required key is missing", key: key)
    }

    public func double(_ key: String, default def: Double? = nil) throws(YAMLError) -> Double {
        if let c = child(key), c.node.string != nil { return try c.asDouble() }
        if let def { return def }
        throw error("required key is missing", key: key)
    }

    public func decimal(_ key: String, default def: Decimal? = nil) throws(YAMLError) -> Decimal {
        if let c = child(key), c.node.string != nil { return try c.asDecimal() }
        if let def { return def }
        throw error("required key is missing", key: key)
    }

    public func bool(_ key: String, default def: Bool? = nil) throws(YAMLError) -> Bool {
        if let c = child(key), c.node.string != nil { return try c.asBool() }
        if let def { return def }
        throw error("required key is missing", key: key)
    }
}
