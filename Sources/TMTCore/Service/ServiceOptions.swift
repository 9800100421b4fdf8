import TMTBase

/// What every TMT service reads at start-up, from its command line and environment.
///
/// Environment first (as Docker Compose passes it), command-line flags override it. A malformed
/// value stops start-up with an error naming the variable or flag.
public struct ServiceOptions: Sendable, Equatable {
    /// Service name used in logs, metrics and heartbeats, e.g. `aria-risk`.
    public var service: String
    /// Address the HTTP server binds. Env `HTTP_HOST`, flag `--host`; default `127.0.0.1`
    /// (compose sets `0.0.0.0`).
    public var host: String
    /// HTTP port for `/health`, `/ready`, `/metrics` (and the service's own API). Env `PORT`,
    /// flag `--port`; default per service (8001–8008, gateway 8000).
    public var port: Int
    /// Minimum log level. Env `LOG_LEVEL`, flag `--log-level`; default `info`.
    public var logLevel: LogLevel
    /// The structured configuration file, `config/<service>-staging.yml` under `configDirectory`
    /// when present. Env `CONFIG_FILE`, flag `--config`.
    public var configFile: String?
    /// Folder searched for `<service>-staging.yml`. Env `CONFIG_DIR`; default `config`.
    public var configDirectory: String
    /// Seconds between heartbeats on `agents.health`. Env `HEARTBEAT_INTERVAL_SECONDS`; default 5.
    public var heartbeatInterval: Double
    /// Unique per process start (several instances of one agent may run): `<hostname>-<pid>-<nonce>`.
    /// The nonce matters in a container, where the process is PID 1 with the same hostname after a
    /// restart: the per-process consumer groups that replay their topics from the beginning must
    /// be new groups, not ones resuming from the crashed process's committed offsets.
    public var instanceId: String
    /// Seconds between two hand-backs of freed heap memory to the kernel (`MemoryTrimmer`); 0
    /// turns them off. Env `MEMORY_TRIM_INTERVAL_SECONDS`; default 10.
    public var memoryTrimInterval: Double = 10

    /// The usage text shared by every service's `--help`.
    public static func usage(service: String, executable: String, summary: String, defaultPort: Int, extra: String = "") -> String {
        """
        Usage: \(executable) [--port N] [--host ADDR] [--config FILE] [--log-level LEVEL] [--help]

        \(summary)

          --port N           HTTP port for /health, /ready, /metrics (env PORT; default \(defaultPort))
          --host ADDR        bind address (env HTTP_HOST; default 127.0.0.1)
          --config FILE      structured settings (env CONFIG_FILE; default config/\(service)-staging.yml if present)
          --log-level LEVEL  trace|debug|info|notice|warn|error|critical (env LOG_LEVEL; default info)
          --help             this text
          (env MEMORY_TRIM_INTERVAL_SECONDS: hand freed heap memory back to the kernel every N s; default 10, 0 off)
        \(extra)
        Stops gracefully on SIGTERM or SIGINT.
        """
    }

    /// Parses flags and environment. Returns nil after printing usage for `--help`.
    public static func parse(service: String, defaultPort: Int, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                             environment env: Environment = Environment()) throws -> ServiceOptions {
        var o = ServiceOptions(
            service: service,
            host: env.string("HTTP_HOST", default: "127.0.0.1"),
            port: try env.int("PORT", default: defaultPort, range: 0...65535),
            logLevel: .info,
            configFile: env.string("CONFIG_FILE"),
            configDirectory: env.string("CONFIG_DIR", default: "config"),
            heartbeatInterval: try env.double("HEARTBEAT_INTERVAL_SECONDS", default: 5, range: 0.1...3600),
            instanceId: "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(6).lowercased())"
        )
        o.memoryTrimInterval = try env.double("MEMORY_TRIM_INTERVAL_SECONDS", default: 10, range: 0...3600)
        if o.memoryTrimInterval > 0, o.memoryTrimInterval < 1 {
            // Each trim takes every allocator arena's lock in turn: not more often than once a second.
            throw TMTError(.configuration, "environment variable MEMORY_TRIM_INTERVAL_SECONDS: expected 0 (off) or 1–3600 seconds, got \(o.memoryTrimInterval)")
        }
        if let raw = env.string("LOG_LEVEL") {
            guard let l = LogLevel(name: raw) else {
                throw TMTError(.configuration, "environment variable LOG_LEVEL: expected trace|debug|info|notice|warn|error|critical, got '\(raw)'")
            }
            o.logLevel = l
        }
        var args = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = args.popFirst(), !v.hasPrefix("--") else { throw TMTError(.configuration, "\(flag) needs a value") }
            return v
        }
        while let arg = args.popFirst() {
            switch arg {
            case "--port":
                let v = try value(arg)
                guard let p = Int(v), (0...65535).contains(p) else { throw TMTError(.configuration, "--port: expected 0-65535, got '\(v)'") }
                o.port = p
            case "--host": o.host = try value(arg)
            case "--config": o.configFile = try value(arg)
            case "--log-level":
                let v = try value(arg)
                guard let l = LogLevel(name: v) else { throw TMTError(.configuration, "--log-level: unknown level '\(v)'") }
                o.logLevel = l
            default:
                throw TMTError(.configuration, "unknown argument '\(arg)' (see --help)")
            }
        }
        return o
    }

    /// The configuration file to load: the explicit one (which must exist), else
    /// `<configDirectory>/<service>-staging.yml` if it exists, else none.
    public func resolvedConfigFile() throws -> String? {
        if let f = configFile {
            guard FileManager.default.fileExists(atPath: f) else {
                throw TMTError(.configuration, "configuration file \(f) does not exist")
            }
            return f
        }
        let candidate = "\(configDirectory)/\(service)-staging.yml"
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }
}
