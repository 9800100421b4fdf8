import TMTBase

/// Where and how to reach Redis, with the client's timeouts and pool size.
///
/// Build it from a URL, `redis://[[user]:password@]host[:port][/db][?key=value&…]`, e.g.
/// `redis://:s3cret@127.0.0.1:6380/2?command_timeout=0.5`. `rediss://` (TLS) is rejected because
/// Debian's hiredis 0.14 has no TLS support. The `description` never shows the password.
///
/// Query keys: `connect_timeout`, `command_timeout`, `acquire_timeout` (seconds), `pool_size`,
/// `reconnect_attempts`. Anything else is an error, so a typo fails at start-up.
public struct RedisConfiguration: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Host name or IP address (IPv6 without brackets). Default `127.0.0.1`.
    public var host: String = "127.0.0.1"
    /// TCP port. Default 6379.
    public var port: Int = 6379
    /// ACL user name for `AUTH user password` (Redis 6+); `nil` authenticates as the default user.
    public var username: String?
    /// Password sent with `AUTH` after every connect; `nil` sends no `AUTH`. Never printed.
    public var password: String?
    /// Logical database selected with `SELECT` after every connect. Default 0.
    public var database: Int = 0
    /// Seconds a TCP connect may take before it fails. Default 2.
    public var connectTimeout: Double = 2
    /// Seconds a command may wait for socket writes and for its reply (`SO_SNDTIMEO`/`SO_RCVTIMEO`
    /// via `redisSetTimeout`); 0 waits forever. Blocking commands such as `BLPOP` need a larger
    /// value than their own timeout. Default 5.
    public var commandTimeout: Double = 5
    /// Most connections a `RedisClient` keeps open. Default 4.
    public var poolSize: Int = 4
    /// Seconds `RedisClient` waits for a free connection when all are in use. Default 5.
    public var acquireTimeout: Double = 5
    /// Connect attempts a broken connection makes before a call fails. Default 3.
    public var reconnectAttempts: Int = 3
    /// Seconds before the second connect attempt; doubled for each further attempt, capped at
    /// 2 s. Default 0.1.
    public var reconnectBackoff: Double = 0.1

    /// A configuration for `host:port` with the defaults above.
    public init(host: String = "127.0.0.1", port: Int = 6379, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.password = password
        self.database = database
    }

    /// Parses `redis://[[user]:password@]host[:port][/db][?key=value&…]` and validates the result.
    ///
    /// Errors are `TMTError(.configuration, …)`; their messages name the faulty part but never
    /// repeat the URL, which may hold a password.
    public init(url: String) throws {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw TMTError(.configuration, "Redis URL must start with redis://")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "redis": break
        case "rediss":
            throw TMTError(.configuration,
                           "rediss:// (TLS) is not supported: Debian's hiredis 0.14 has no TLS; use redis:// on a trusted network or a TLS tunnel")
        default:
            throw TMTError(.configuration, "unsupported Redis URL scheme '\(Self.printable(scheme))'; expected redis://")
        }

        var rest = Substring(url[schemeEnd.upperBound...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        // The authority: the last '@' ends the user info, since a password may contain '@' only
        // percent-encoded but people paste raw ones anyway.
        var hostPort = rest
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw TMTError(.configuration, "Redis URL has a user name but no password; write redis://user:password@host or redis://:password@host")
            }
            let user = try Self.percentDecode(userInfo[..<colon], part: "user name")
            let pass = try Self.percentDecode(userInfo[userInfo.index(after: colon)...], part: "password")
            username = user.isEmpty ? nil : user
            password = pass
        }

        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw TMTError(.configuration, "Redis URL has an unterminated IPv6 address")
            }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw TMTError(.configuration, "Redis URL has text after the IPv6 address")
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        if host.isEmpty { host = "127.0.0.1" }
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw TMTError(.configuration, "Redis URL port must be a number from 1 to 65535")
            }
            port = p
        }

        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else {
                throw TMTError(.configuration, "Redis URL path must be a database number, e.g. redis://host:6379/0")
            }
            database = db
        }

        for item in query.split(separator: "&") where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            func seconds() throws -> Double {
                guard let v = Double(value), v.isFinite, v >= 0 else {
                    throw TMTError(.configuration, "Redis URL option \(Self.printable(key)) must be a number of seconds ≥ 0")
                }
                return v
            }
            func count() throws -> Int {
                guard let v = Int(value), v > 0 else {
                    throw TMTError(.configuration, "Redis URL option \(Self.printable(key)) must be a whole number > 0")
                }
                return v
            }
            switch key {
            case "connect_timeout": connectTimeout = try seconds()
            case "command_timeout": commandTimeout = try seconds()
            case "acquire_timeout": acquireTimeout = try seconds()
            case "pool_size": poolSize = try count()
            case "reconnect_attempts": reconnectAttempts = try count()
            default:
                throw TMTError(.configuration, "unknown Redis URL option '\(Self.printable(key))' (known: connect_timeout, command_timeout, acquire_timeout, pool_size, reconnect_attempts)")
            }
        }
        try validate()
    }

    /// Checks ranges once at start-up; throws `TMTError(.configuration, …)` naming the field.
    public func validate() throws {
        if host.isEmpty { throw TMTError(.configuration, "Redis host is empty") }
        if !(1...65535).contains(port) { throw TMTError(.configuration, "Redis port must be from 1 to 65535") }
        if database < 0 { throw TMTError(.configuration, "Redis database must be ≥ 0") }
        if !(connectTimeout > 0 && connectTimeout.isFinite) { throw TMTError(.configuration, "Redis connectTimeout must be > 0 seconds") }
        if !(commandTimeout >= 0 && commandTimeout.isFinite) { throw TMTError(.configuration, "Redis commandTimeout must be ≥ 0 seconds (0 = none)") }
        if poolSize < 1 { throw TMTError(.configuration, "Redis poolSize must be ≥ 1") }
        if !(acquireTimeout >= 0 && acquireTimeout.isFinite) { throw TMTError(.configuration, "Redis acquireTimeout must be ≥ 0 seconds") }
        if reconnectAttempts < 1 { throw TMTError(.configuration, "Redis reconnectAttempts must be ≥ 1") }
        if !(reconnectBackoff >= 0 && reconnectBackoff.isFinite) { throw TMTError(.configuration, "Redis reconnectBackoff must be ≥ 0 seconds") }
        if password == nil && username != nil { throw TMTError(.configuration, "Redis username needs a password") }
    }

    /// `host:port`, with brackets around IPv6 addresses; safe to log.
    public var endpoint: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        var auth = ""
        if password != nil { auth = "\(username ?? ""):***@" }
        return "redis://\(auth)\(endpoint)/\(database)"
    }

    public var debugDescription: String {
        "RedisConfiguration(\(description), connectTimeout: \(connectTimeout)s, commandTimeout: \(commandTimeout)s, poolSize: \(poolSize))"
    }

    /// Hides the password from `dump` and debuggers too.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "host": host, "port": port, "username": username as Any, "password": password == nil ? "nil" : "***",
            "database": database, "connectTimeout": connectTimeout, "commandTimeout": commandTimeout,
            "poolSize": poolSize, "acquireTimeout": acquireTimeout, "reconnectAttempts": reconnectAttempts,
            "reconnectBackoff": reconnectBackoff,
        ])
    }

    private static func percentDecode(_ s: Substring, part: String) throws -> String {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            guard b == UInt8(ascii: "%") else { out.append(b); continue }
            guard it.count >= 2, let hi = hexValue(it[it.startIndex]), let lo = hexValue(it[it.startIndex + 1]) else {
                throw TMTError(.configuration, "Redis URL \(part) has an invalid %-escape")
            }
            out.append(hi << 4 | lo)
            it = it.dropFirst(2)
        }
        guard let decoded = String(validating: out, as: UTF8.self) else {
            throw TMTError(.configuration, "Redis URL \(part) is not valid UTF-8")
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

    /// Keeps error messages to a short, printable excerpt of user-supplied text.
    private static func printable(_ s: some StringProtocol) -> String {
        String(s.prefix(32).unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init))
    }
}
