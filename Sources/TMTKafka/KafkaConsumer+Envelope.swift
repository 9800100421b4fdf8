import TMTBase
import TMTModels

extension KafkaConsumer {
    /// Like `start(handler:)`, for topics carrying `Envelope<Payload>` JSON: each message is
    /// decoded with `EnvelopeCoding.decode` before `handler` sees it.
    ///
    /// A message that does not decode goes straight to the DLQ (category `undecodable`, reason
    /// naming the bad field); one whose `schemaVersion` is outside `supportedSchemaVersions`
    /// goes there too (category `unsupported_schema`). Neither is retried. Errors thrown by
    /// `handler` are treated as in `start(handler:)`.
    public func startEnvelopes<Payload: Codable & Sendable>(
        _ payload: Payload.Type, supportedSchemaVersions: ClosedRange<Int> = 1...1,
        handler: @escaping @Sendable (Envelope<Payload>, KafkaMessage) throws -> Void
    ) throws {
        try start { message in
            let envelope = try KafkaConsumer.decodeEnvelope(Payload.self, from: message, supportedSchemaVersions: supportedSchemaVersions)
            try handler(envelope, message)
        }
    }

    /// Decodes a message's value as `Envelope<Payload>`, throwing `KafkaPermanentFailure` with
    /// category `undecodable` or `unsupported_schema` when it cannot be used.
    public static func decodeEnvelope<Payload: Codable & Sendable>(
        _ payload: Payload.Type, from message: KafkaMessage, supportedSchemaVersions: ClosedRange<Int> = 1...1
    ) throws -> Envelope<Payload> {
        let envelope: Envelope<Payload>
        do {
            envelope = try EnvelopeCoding.decode(Payload.self, from: message.value)
        } catch {
            // A newer schema may fail to decode as this one; say so rather than blame a field.
            if let version = try? JSONDecoder().decode(SchemaVersionProbe.self, from: Data(message.value)).schemaVersion,
               !supportedSchemaVersions.contains(version) {
                throw unsupported(version, supportedSchemaVersions)
            }
            let reason = (error as? TMTError)?.message ?? String(describing: error)
            throw KafkaPermanentFailure.undecodable(reason)
        }
        guard supportedSchemaVersions.contains(envelope.schemaVersion) else {
            throw unsupported(envelope.schemaVersion, supportedSchemaVersions)
        }
        return envelope
    }

    private static func unsupported(_ version: Int, _ supported: ClosedRange<Int>) -> KafkaPermanentFailure {
        let range = supported.lowerBound == supported.upperBound ? "\(supported.lowerBound)" : "\(supported.lowerBound)...\(supported.upperBound)"
        return .unsupportedSchema("schemaVersion \(version) is not supported (supported: \(range))")
    }
}

private struct SchemaVersionProbe: Decodable {
    var schemaVersion: Int
}
