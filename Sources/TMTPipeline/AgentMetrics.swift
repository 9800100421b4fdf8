import TMTCore

/// The metrics every pipeline agent reports, with the names the design and the alert rules use.
public struct AgentMetrics: Sendable {
    /// Time from receiving a message to having produced its result, per agent and message type.
    public let processing: HistogramFamily
    /// Messages an agent has handled, by outcome.
    public let handled: CounterFamily
    /// Failures talking to other components (broker, databases, Redis).
    public let communicationErrors: CounterFamily

    public init(registry: MetricsRegistry) {
        processing = registry.histogram("tmt_agent_processing_duration_seconds",
                                        help: "Seconds an agent spent on one message, from receipt to its result being sent.",
                                        labels: ["agent", "type"])
        handled = registry.counter("tmt_agent_messages_total", help: "Messages handled by an agent, by type and outcome.",
                                   labels: ["agent", "type", "outcome"])
        communicationErrors = registry.counter("tmt_agent_communication_errors_total",
                                               help: "Failures talking to the broker, databases or Redis, by agent and peer.",
                                               labels: ["agent", "peer"])
    }
}
