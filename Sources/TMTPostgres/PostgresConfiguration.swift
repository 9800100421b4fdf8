import TMTBase

/// How to reach a PostgreSQL server, and how connections and the pool behave.
///
/// Build it from a URL (`postgresql://user:pass@host:port/db?sslmode=disable&connect_timeout=5`)
/// with `init(url:)`, or from an environment variable holding such a URL with
/// `init(environment:key:)`. Every field has a documented default and is validated once, here,
/// so a bad setting stops start-up instead of failing on the first query.
///
/// `description`, `debugDescription` and the reflection used by `dump` never show the password.
///
/// Every connection is opened with `TimeZone=UTC`, `DateStyle=ISO`, `bytea_output=hex` and
/// `client_encoding=UTF8`, because the text-format decoders rely on them; SQL such as
/// `date_trunc('day', ts)` therefore works in UTC.
public struct PostgresConfiguration: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// libpq's `sslmode`.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP only.
        case disable
        /// Plain first, TLS if the server insists.
        case allow
        /// TLS if the server offers it, else plain (libpq's default).
        case prefer
        /// TLS, without verifying the certificate.
        case require
        /// TLS, certificate signed by a trusted CA.
        case verifyCA = "verify-ca"
        /// TLS, certificate signed by a trusted CA and matching the host name.
        case verifyFull = "verify-full"
    }

    /// Host name, IP address, or the directory of a Unix-domain socket. Default `localhost`.
    public var host: String
    /// TCP port (or socket file suffix). Default `5432`.
    public var port: Int
    /// Database name. Default: the user name (libpq's rule).
    public var database: String
    /// Role to log in as. Required.
    public var user: String
    /// Password, or `nil` for trust/peer/`.pgpass` authentication. Never printed.
    public var password: String?
    /// TLS policy. Default `.prefer`.
    public var sslMode: SSLMode
    /// Seconds to wait for a connection to be established. Default 5. libpq counts whole
    /// seconds (rounded up here) and treats anything below 2 as 2.
    public var connectTimeout: Double
    /// `application_name`, shown in `pg_stat_activity`. Default `nil` (none sent).
    public var applicationName: String?
    /// Server-side `statement_timeout` in seconds for every statement; `nil` keeps the server's
    /// setting (usually no limit). A statement that runs longer fails with `TMTError.Code.timeout`
    /// (SQLSTATE 57014). Default `nil`. URL parameter `statement_timeout` is in milliseconds,
    /// PostgreSQL's own unit, or takes a suffix (`5s`, `250ms`, `1min`).
    public var statementTimeout: Double?
    /// Most connections a `PostgresPool` opens; they are created lazily. Default 10.
    public var maxConnections: Int
    /// Seconds `PostgresPool` waits for a free connection before failing with
    /// `TMTError.Code.poolExhausted`. Default 5.
    public var acquireTimeout: Double
    /// A pooled connection idle for longer than this many seconds is checked with a round trip
    /// (`SELECT 1`) before it is handed out; a broken one is replaced. A cheap local check (status
    /// and socket) runs on every hand-out regardless. Default 30.
    public var healthCheckInterval: Double

    /// A configuration with the given fields; every other field takes its default.
    public init(
        host: String = "localhost",
        port: Int = 5432,
        database: String? = nil,
        user: String,
        password: String? = nil,
        sslMode: SSLMode = .prefer,
        connectTimeout: Double = 5,
        applicationName: String? = nil,
        statementTimeout: Double? = nil,
        maxConnections: Int = 10,
        acquireTimeout: Double = 5,
        healthCheckInterval: Double = 30
    ) {
        self.host = host
        self.port = port
        self.database = database ?? user
        self.user = user
        self.password = password
        self.sslMode = sslMode
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
        self.statementTimeout = statementTimeout
        self.maxConnections = maxConnections
        self.acquireTimeout = acquireTimeout
        self.healthCheckInterval = healthCheckInterval
    }

    /// Parses `postgresql://[user[:password]@]host[:port][/database][?param=value&…]`
    /// (`postgres://` also accepted). User, password and database are percent-decoded.
    ///
    /// Query parameters: `sslmode`, `connect_timeout` (seconds), `application_name`,
    /// `statement_timeout` (milliseconds, or with a `ms`/`s`/`min` suffix), `pool_max` (alias
    /// `pool_size`), `acquire_timeout` (seconds), `health_check_interval` (seconds) and `host`
    /// (e.g. a Unix socket directory). Any other parameter is an error, so a typo never passes
    /// silently. Errors never repeat the URL, which holds the password.
    public init(url: String, source: String = "PostgreSQL URL") throws {
        func fail(_ why: String) -> TMTError { TMTError(.configuration, "\(source): \(why)") }

        var rest = Substring(url.trimmingWhitespace())
        if rest.hasPrefix("postgresql://") {
            rest = rest.dropFirst("postgresql://".count)
        } else if rest.hasPrefix("postgres://") {
            rest = rest.dropFirst("postgres://".count)
        } else {
            throw fail("must start with postgresql:// or postgres://")
        }

        var query = Substring("")
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var path = Substring("")
        // The authority ends at the first '/' after the last '@', so an unencoded '/' in a
        // password still parses (the '@' is searched first).
        let at = rest.lastIndex(of: "@")
        let hostStart = at.map { rest.index(after: $0) } ?? rest.startIndex
        if let slash = rest[hostStart...].firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        var user: String?
        var password: String?
        var hostPort = rest
        if let at {
            let userInfo = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.percentDecode(userInfo[..<colon], field: "user name", source: source)
                password = try Self.percentDecode(userInfo[userInfo.index(after: colon)...], field: "password", source: source)
            } else {
                user = try Self.percentDecode(userInfo, field: "user name", source: source)
            }
        }

        var host = "localhost"
        var port = 5432
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("unterminated IPv6 address") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the IPv6 address") }
                port = try Self.parsePort(after.dropFirst(), source: source)
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            if colon != hostPort.startIndex { host = try Self.percentDecode(hostPort[..<colon], field: "host", source: source) }
            port = try Self.parsePort(hostPort[hostPort.index(after: colon)...], source: source)
        } else if !hostPort.isEmpty {
            host = try Self.percentDecode(hostPort, field: "host", source: source)
        }

        guard let user, !user.isEmpty else { throw fail("has no user name (postgresql://user:password@host/database)") }
        var database = try Self.percentDecode(path, field: "database name", source: source)
        if database.isEmpty { database = user }

        self.init(host: host, port: port, database: database, user: user, password: password)

        // Parameter errors echo the offending value to make typos easy to fix, but never one
        // that contains the password.
        do {
            try applyQuery(query, source: source)
        } catch var e as TMTError {
            e.message = PostgresServerError.scrub(e.message, password: password)
            throw e
        }
        try validate(source: source)
    }

    private mutating func applyQuery(_ query: Substring, source: String) throws {
        func fail(_ why: String) -> TMTError { TMTError(.configuration, "\(source): \(why)") }
        var seen = Set<String>()
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let key: String
            let value: String
            if let eq = pair.firstIndex(of: "=") {
                key = try Self.percentDecode(pair[..<eq], field: "parameter name", source: source)
                value = try Self.percentDecode(pair[pair.index(after: eq)...], field: "parameter value", source: source)
            } else {
                key = try Self.percentDecode(pair, field: "parameter name", source: source)
                value = ""
            }
            guard seen.insert(key).inserted else { throw fail("parameter '\(key)' is given twice") }
            try apply(parameter: key, value: value, source: source)
        }
    }

    /// Reads the URL from the environment variable `key` (or from the file named by
    /// `<key>_FILE`, Docker-secrets style). A password in `<key>_PASSWORD` (or the file named by
    /// `<key>_PASSWORD_FILE`) replaces the URL's, so the URL itself can live in plain config.
    public init(environment: Environment = Environment(), key: String = "DATABASE_URL") throws {
        guard let url = try environment.secret(key) else {
            throw TMTError(.configuration, "environment variable \(key) is required but not set (e.g. postgresql://user:password@host:5432/database)")
        }
        try self.init(url: url, source: "environment variable \(key)")
        if let password = try environment.secret(key + "_PASSWORD") {
            self.password = password
        }
    }

    private mutating func apply(parameter key: String, value: String, source: String) throws {
        func fail(_ expected: String) -> TMTError {
            TMTError(.configuration, "\(source): parameter \(key): expected \(expected), got '\(value)'")
        }
        func seconds() throws -> Double {
            guard let v = Double(value), v.isFinite, v >= 0 else { throw fail("a number of seconds ≥ 0") }
            return v
        }
        switch key {
        case "sslmode":
            guard let mode = SSLMode(rawValue: value) else {
                throw fail("one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        case "connect_timeout":
            connectTimeout = try seconds()
        case "application_name":
            applicationName = value.isEmpty ? nil : value
        case "statement_timeout":
            guard let v = Self.parseMilliseconds(value) else { throw fail("milliseconds, or a number with ms, s or min") }
            statementTimeout = v == 0 ? nil : v
        case "pool_max", "pool_size":
            guard let v = Int(value) else { throw fail("an integer") }
            maxConnections = v
        case "acquire_timeout":
            acquireTimeout = try seconds()
        case "health_check_interval":
            healthCheckInterval = try seconds()
        case "host":
            guard !value.isEmpty else { throw fail("a host name or socket directory") }
            host = value
        default:
            throw TMTError(.configuration, "\(source): unknown parameter '\(key)' (known: sslmode, connect_timeout, application_name, statement_timeout, pool_max, pool_size, acquire_timeout, health_check_interval, host)")
        }
    }

    /// Checks ranges; called by `init(url:)`. Call it yourself after setting fields by hand.
    public func validate(source: String = "PostgreSQL configuration") throws {
        func fail(_ why: String) -> TMTError { TMTError(.configuration, "\(source): \(why)") }
        guard (1...65535).contains(port) else { throw fail("port must be in 1...65535, got \(port)") }
        guard !host.isEmpty else { throw fail("host is empty") }
        guard !user.isEmpty else { throw fail("user is empty") }
        guard (1...1000).contains(maxConnections) else { throw fail("pool_max must be in 1...1000, got \(maxConnections)") }
        guard connectTimeout.isFinite, connectTimeout >= 0 else { throw fail("connect_timeout must be ≥ 0") }
        guard acquireTimeout.isFinite, acquireTimeout >= 0 else { throw fail("acquire_timeout must be ≥ 0") }
        guard healthCheckInterval.isFinite, healthCheckInterval >= 0 else { throw fail("health_check_interval must be ≥ 0") }
        if let s = statementTimeout { guard s.isFinite, s > 0 else { throw fail("statement_timeout must be > 0") } }
        for (name, v) in [("host", host), ("user", user), ("database", database), ("application_name", applicationName ?? "")]
        where v.utf8.contains(0) {
            throw fail("\(name) contains a NUL byte")
        }
        if let password, password.utf8.contains(0) { throw fail("password contains a NUL byte") }
    }

    /// The URL without the password (shown as `***`), with the non-default parameters.
    public var redactedURL: String {
        var s = "postgresql://"
        s += Self.percentEncode(user)
        if password != nil { s += ":***" }
        s += "@"
        s += host.contains(":") && !host.hasPrefix("/") ? "[\(host)]" : host
        s += ":\(port)/\(Self.percentEncode(database))"
        var params: [String] = []
        if sslMode != .prefer { params.append("sslmode=\(sslMode.rawValue)") }
        if let applicationName { params.append("application_name=\(Self.percentEncode(applicationName))") }
        if connectTimeout != 5 { params.append("connect_timeout=\(Self.format(connectTimeout))") }
        if let statementTimeout { params.append("statement_timeout=\(Int((statementTimeout * 1000).rounded()))") }
        if !params.isEmpty { s += "?" + params.joined(separator: "&") }
        return s
    }

    /// E.g. `postgresql://trading_user:***@127.0.0.1:5433/trading_staging (pool max 10, acquire timeout 5.0 s)`.
    public var description: String {
        "\(redactedURL) (pool max \(maxConnections), acquire timeout \(Self.format(acquireTimeout)) s)"
    }

    public var debugDescription: String { description }

    /// Keeps the password out of `dump()` and debugger views.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "host": host, "port": port, "database": database, "user": user,
            "password": password == nil ? "nil" : "***", "sslMode": sslMode.rawValue,
            "connectTimeout": connectTimeout, "applicationName": applicationName as Any,
            "statementTimeout": statementTimeout as Any, "maxConnections": maxConnections,
            "acquireTimeout": acquireTimeout, "healthCheckInterval": healthCheckInterval,
        ], displayStyle: .struct)
    }

    /// The keyword/value pairs handed to `PQconnectdbParams`; the password travels here rather
    /// than in a connection string, so it is never parsed or echoed by libpq.
    var libpqParameters: [(String, String)] {
        var p: [(String, String)] = [
            ("host", host),
            ("port", String(port)),
            ("dbname", database),
            ("user", user),
            ("sslmode", sslMode.rawValue),
            ("connect_timeout", String(max(1, Int(connectTimeout.rounded(.up))))),
            ("client_encoding", "UTF8"),
            // Keepalives make a silently dead server (no RST, e.g. a pulled cable) surface as an
            // error within about a minute instead of a query blocking forever.
            ("keepalives", "1"),
            ("keepalives_idle", "30"),
            ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
        ]
        if let password { p.append(("password", password)) }
        if let applicationName { p.append(("application_name", applicationName)) }
        var options = "-c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex"
        if let statementTimeout { options += " -c statement_timeout=\(max(1, Int((statementTimeout * 1000).rounded())))" }
        p.append(("options", options))
        return p
    }

    // MARK: - Parsing helpers

    private static func parsePort(_ s: Substring, source: String) throws -> Int {
        guard let v = Int(s), (1...65535).contains(v) else {
            throw TMTError(.configuration, "\(source): port must be an integer in 1...65535, got '\(s)'")
        }
        return v
    }

    /// Milliseconds by default; `ms`, `s`, `min` suffixes accepted. Returns seconds.
    static func parseMilliseconds(_ raw: String) -> Double? {
        let s = raw.trimmingWhitespace().lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("min", 60), ("s", 1)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            guard let v = Double(s.dropLast(suffix.count).trimmingWhitespace()), v.isFinite, v >= 0 else { return nil }
            return v * factor
        }
        guard let v = Double(s), v.isFinite, v >= 0 else { return nil }
        return v / 1000
    }

    /// Strict percent-decoding: a `%` not followed by two hex digits is an error (it usually
    /// means an unencoded `%` in a password). The error does not repeat the text.
    static func percentDecode(_ s: Substring, field: String, source: String) throws -> String {
        guard s.contains("%") else { return String(s) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let hi = hexValue(it[it.startIndex]), let lo = hexValue(it[it.startIndex + 1]) else {
                    throw TMTError(.configuration, "\(source): invalid percent-encoding in the \(field) (encode '%' as %25)")
                }
                bytes.append(hi << 4 | lo)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw TMTError(.configuration, "\(source): the \(field) is not valid UTF-8 after percent-decoding")
        }
        return decoded
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += String(cFormat: "%%%02X", b)
            }
        }
        return out
    }

    static func format(_ seconds: Double) -> String {
        String(cFormat: "%.1f", seconds)
    }
}
