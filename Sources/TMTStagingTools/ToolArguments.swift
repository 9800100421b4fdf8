import Foundation

/// A small `--flag VALUE` parser for the testing tools: every flag must be known, every value
/// present and well-formed; errors name the flag.
public struct ToolArguments {
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    /// - Parameters:
    ///   - valued: flags that take a value (`--rate 1000` or `--rate=1000`).
    ///   - switches: flags without a value.
    public init(_ arguments: [String], valued: Set<String>, switches known: Set<String>) throws {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            var name = a, inline: String?
            if let eq = a.firstIndex(of: "="), a.hasPrefix("--") {
                name = String(a[..<eq])
                inline = String(a[a.index(after: eq)...])
            }
            if valued.contains(name) {
                if let inline {
                    values[name] = inline
                } else {
                    guard i + 1 < arguments.count else { throw ToolUsageError("\(name) needs a value") }
                    i += 1
                    values[name] = arguments[i]
                }
            } else if known.contains(name), inline == nil {
                switches.insert(name)
            } else {
                throw ToolUsageError("unknown argument '\(a)'")
            }
            i += 1
        }
    }

    public func has(_ flag: String) -> Bool { switches.contains(flag) }
    public func string(_ flag: String) -> String? { values[flag] }

    public func double(_ flag: String, default def: Double, range: ClosedRange<Double>) throws -> Double {
        guard let text = values[flag] else { return def }
        guard let v = Double(text), range.contains(v) else {
            throw ToolUsageError("\(flag) must be a number in \(range.lowerBound)…\(range.upperBound), not '\(text)'")
        }
        return v
    }

    public func int(_ flag: String, default def: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = values[flag] else { return def }
        guard let v = Int(text), range.contains(v) else {
            throw ToolUsageError("\(flag) must be an integer in \(range.lowerBound)…\(range.upperBound), not '\(text)'")
        }
        return v
    }
}

/// A command-line mistake: the tool prints it with its usage hint and exits 2.
public struct ToolUsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Exit codes shared by the testing tools.
public enum ToolExit {
    /// Every check passed / every SLA met.
    public static let passed: Int32 = 0
    /// A check failed or an SLA was breached.
    public static let failed: Int32 = 1
    /// Bad arguments or configuration (nothing was run).
    public static let usage: Int32 = 2
    /// The stack could not be reached or the run could not be carried out.
    public static let unavailable: Int32 = 3
}
