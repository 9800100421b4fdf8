import TMTBase

/// Why a rollout command or configuration was refused.
public struct RolloutError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String
        /// A command that the current state does not accept (e.g. approving a finished rollout).
        public static let invalidCommand = Code(name: "invalidCommand")
        /// A configuration or environment value that cannot be used.
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What exactly was wrong.
    public var detail: String

    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "rollout \(code): \(detail)" }
}
