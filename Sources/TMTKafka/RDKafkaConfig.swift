import CRdKafka
import TMTBase

/// Owns an `rd_kafka_conf_t` until `rd_kafka_new` takes it. One of the few files that touch
/// librdkafka directly.
final class RDKafkaConfig {
    /// `nil` once handed over to `rd_kafka_new`.
    private(set) var pointer: OpaquePointer?

    init() {
        pointer = rd_kafka_conf_new()
    }

    deinit {
        if let pointer { rd_kafka_conf_destroy(pointer) }
    }

    /// Applies settings in order; the first one librdkafka rejects throws, naming its key.
    convenience init(_ settings: [(String, String)]) throws {
        self.init()
        for (key, value) in settings { try set(key, value) }
    }

    func set(_ key: String, _ value: String) throws {
        guard let pointer else { preconditionFailure("RDKafkaConfig used after hand-over") }
        var errbuf = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(pointer, key, value, &errbuf, errbuf.count)
        guard result != RD_KAFKA_CONF_OK else { return }
        let text = String(cBuffer: errbuf)
        // librdkafka's text quotes the value; keep it out of the message for anything secret.
        let secret = Self.isSecret(key)
        switch result {
        case RD_KAFKA_CONF_UNKNOWN:
            throw TMTError(.configuration, "unknown Kafka setting '\(key)'", detail: text)
        default:
            throw TMTError(.configuration, secret ? "invalid value for Kafka setting '\(key)'" : "invalid Kafka setting '\(key)': \(text)",
                           detail: secret ? nil : text)
        }
    }

    /// Routes the listed event types to the main queue (for `rd_kafka_queue_poll`).
    func enableEvents(_ events: Int32) {
        guard let pointer else { return }
        rd_kafka_conf_set_events(pointer, events)
    }

    /// Hands the configuration to a successfully created handle; librdkafka owns it from now on.
    func relinquish() {
        pointer = nil
    }

    /// Applies all settings to a throwaway configuration.
    static func validate(_ settings: [(String, String)]) throws {
        _ = try RDKafkaConfig(settings)
    }

    static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return k.contains("password") || k.contains("secret") || k.contains("sasl") || k.contains("key.pem")
            || k.contains("token") || k.hasSuffix(".key")
    }
}
