import TMTMetrics

/// The metric families an `HTTPServer` reports to.
final class HTTPServerMetrics: Sendable {
    let requests: CounterFamily
    let duration: HistogramFamily
    let connections: Gauge

    init(registry: MetricsRegistry) {
        requests = registry.counter("tmt_http_requests_total",
                                    help: "HTTP requests answered, by method, route pattern and status code.",
                                    labels: ["method", "route", "status"])
        duration = registry.histogram("tmt_http_request_duration_seconds",
                                      help: "Seconds from the first byte of an HTTP request to the last byte of its response, by method and route pattern.",
                                      labels: ["method", "route"])
        connections = registry.gauge("tmt_http_connections_active", help: "Open HTTP server connections.").labels()
    }
}
