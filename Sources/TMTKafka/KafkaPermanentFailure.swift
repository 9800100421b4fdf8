import TMTBase

/// Thrown by a message handler when retrying cannot help (the message is malformed, of an
/// unknown schema version, or refers to something that can never exist): the consumer sends the
/// message to the DLQ at once instead of retrying it.
///
/// Decoding errors (`TMTError` with code `.decoding`, Swift's `DecodingError`) are treated the
/// same way without wrapping. Any other error is transient: retried, then dead-lettered.
public struct KafkaPermanentFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Machine-readable kind; becomes the `dlq.category` header and the `reason` label of
    /// `tmt_kafka_dlq_total`. Keep it to a small fixed set.
    public var category: String
    /// Human-readable explanation (e.g. which field was wrong); becomes the `dlq.reason` header.
    public var reason: String

    /// A failure of `category` (see the static categories) explained by `reason`.
    public init(category: String, reason: String) {
        self.category = category
        self.reason = reason
    }

    /// The message cannot be decoded; `reason` should name the field.
    public static func undecodable(_ reason: String) -> KafkaPermanentFailure {
        KafkaPermanentFailure(category: categoryUndecodable, reason: reason)
    }

    /// The message's `schemaVersion` is not one this consumer understands.
    public static func unsupportedSchema(_ reason: String) -> KafkaPermanentFailure {
        KafkaPermanentFailure(category: categoryUnsupportedSchema, reason: reason)
    }

    public var description: String { "\(category): \(reason)" }

    /// `undecodable`
    public static let categoryUndecodable = "undecodable"
    /// `unsupported_schema`
    public static let categoryUnsupportedSchema = "unsupported_schema"
    /// `handler_failed`: a transient error that outlived every retry.
    public static let categoryHandlerFailed = "handler_failed"

    /// How a handler's error is treated: its DLQ category and reason, and whether retrying is
    /// pointless.
    static func classify(_ error: any Error) -> (category: String, reason: String, permanent: Bool) {
        switch error {
        case let f as KafkaPermanentFailure:
            return (f.category, f.reason, true)
        case let e as TMTError where e.code == .decoding:
            return (categoryUndecodable, e.message, true)
        case is DecodingError:
            return (categoryUndecodable, String(describing: error), true)
        case let e as TMTError:
            return (categoryHandlerFailed, e.description, false)
        default:
            return (categoryHandlerFailed, String(describing: error), false)
        }
    }
}
