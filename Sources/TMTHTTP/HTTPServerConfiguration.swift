import TMTBase

/// Settings of an `HTTPServer`. Every limit protects the process from a client that sends too
/// much or too slowly; the defaults suit an internal service API.
///
/// Concurrency model: each accepted connection is served by its own thread, one request at a
/// time, so `maxConnections` is also the maximum number of threads the server runs. Handlers
/// may block (a database call) without holding up other connections.
public struct HTTPServerConfiguration: Sendable {
    /// Address to listen on: a literal IPv4/IPv6 address or a host name. Default `127.0.0.1`;
    /// use `0.0.0.0` inside a container.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free ephemeral port (read it back from `HTTPServer.port`). Default 0.
    public var port: Int = 0
    /// Connections served at once (one thread each). A connection arriving while this many are
    /// open gets `503 Service Unavailable` and is closed. Default 512.
    public var maxConnections: Int = 512
    /// `listen(2)` backlog: connections the kernel queues before they are accepted. Default 511.
    public var listenBacklog: Int = 511
    /// Longest request line (method, target, version) in bytes; longer gets 414. Default 8 KiB.
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Largest header section (all header lines after the request line) in bytes; larger gets
    /// 431. Default 80 KiB.
    public var maxHeaderBytes: Int = 80 * 1024
    /// Most header fields in one request; more gets 431. Default 100.
    public var maxHeaderCount: Int = 100
    /// Largest request body in bytes unless the route sets its own limit; larger gets 413.
    /// Default 1 MiB.
    public var maxBodyBytes: Int = 1024 * 1024
    /// Seconds a keep-alive connection may sit idle between requests before the server closes
    /// it. Default 60 s.
    public var idleTimeout: Double = 60
    /// Seconds from the first byte of a request to its last (head and body); a client slower
    /// than that (slowloris) gets 408 and is closed. Default 10 s.
    public var readTimeout: Double = 10
    /// Seconds one `send` may block on a client that stopped reading before the connection is
    /// dropped. Default 30 s.
    public var writeTimeout: Double = 30
    /// Seconds `shutdown()` waits by default for in-flight requests and streams to finish before
    /// forcing their connections closed. Default 10 s.
    public var shutdownTimeout: Double = 10
    /// Stack size of each connection thread in bytes (virtual; pages are committed only when
    /// touched). Default 1 MiB, ample for handlers that decode nested JSON.
    public var threadStackSize: Int = 1024 * 1024
    /// Name used for the server's threads and log lines. Default `http`.
    public var name: String = "http"

    /// The defaults, with `host` and `port` as given.
    public init(host: String = "127.0.0.1", port: Int = 0) {
        self.host = host
        self.port = port
    }

    /// Checks that every field is in range; called by `HTTPServer.start()`.
    public func validate() throws {
        func fail(_ field: String, _ why: String) throws -> Never {
            throw TMTError(.configuration, "HTTP server configuration: \(field) \(why)")
        }
        if host.isEmpty { try fail("host", "must not be empty") }
        if !(0...65535).contains(port) { try fail("port", "must be in 0...65535") }
        if maxConnections < 1 { try fail("maxConnections", "must be at least 1") }
        if listenBacklog < 1 { try fail("listenBacklog", "must be at least 1") }
        if maxRequestLineBytes < 16 { try fail("maxRequestLineBytes", "must be at least 16") }
        if maxHeaderBytes < 64 { try fail("maxHeaderBytes", "must be at least 64") }
        if maxHeaderCount < 1 { try fail("maxHeaderCount", "must be at least 1") }
        if maxBodyBytes < 0 { try fail("maxBodyBytes", "must not be negative") }
        for (field, v) in [("idleTimeout", idleTimeout), ("readTimeout", readTimeout), ("writeTimeout", writeTimeout)] where !(v > 0 && v.isFinite) {
            try fail(field, "must be a positive number of seconds")
        }
        if !(shutdownTimeout >= 0 && shutdownTimeout.isFinite) { try fail("shutdownTimeout", "must be a non-negative number of seconds") }
        if threadStackSize < 64 * 1024 { try fail("threadStackSize", "must be at least 64 KiB") }
    }
}
