import Glibc
import TMTBase

/// A small blocking HTTP/1.1 client for health probes, service-to-service calls and tests.
///
/// One connection per request (`Connection: close`), plain `http://` only, and every call has a
/// deadline covering connect, send and receive (host-name lookup excepted). Blocks the calling
/// thread, so do not call it from Swift's cooperative pool. Errors are `TMTError`s whose messages
/// name the method, host and path but never the query string.
public struct HTTPClient: Sendable {
    /// Default deadline for a whole request, in seconds. Default 5 s.
    public var timeout: Double
    /// Largest response (head plus body) accepted, in bytes. Default 16 MiB.
    public var maxResponseBytes: Int

    /// A client with a default deadline of `timeout` seconds per request and a response size cap.
    public init(timeout: Double = 5, maxResponseBytes: Int = 16 * 1024 * 1024) {
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// GETs `url`; `timeout` overrides the client default for this call.
    public func get(_ url: String, headers: HTTPHeaders = [:], timeout: Double? = nil) throws -> HTTPClientResponse {
        try send(.get, url, headers: headers, timeout: timeout)
    }

    /// POSTs `body` with `contentType` (unless `headers` already has a Content-Type).
    public func post(_ url: String, body: [UInt8], contentType: String = "application/json", headers: HTTPHeaders = [:],
                     timeout: Double? = nil) throws -> HTTPClientResponse {
        var h = headers
        if h["Content-Type"] == nil { h["Content-Type"] = contentType }
        return try send(.post, url, headers: h, body: body, timeout: timeout)
    }

    /// POSTs `value` encoded with `HTTPJSON.encoder`.
    public func postJSON<T: Encodable>(_ url: String, _ value: T, headers: HTTPHeaders = [:], timeout: Double? = nil) throws -> HTTPClientResponse {
        try post(url, body: HTTPJSON.encode(value), headers: headers, timeout: timeout)
    }

    /// Sends one request and reads the whole response. `Host`, `Content-Length` and `Connection`
    /// are set by the client; CR, LF and NUL are removed from header values.
    public func send(_ method: HTTPMethod, _ url: String, headers: HTTPHeaders = [:], body: [UInt8] = [],
                     timeout: Double? = nil) throws -> HTTPClientResponse {
        let limit = timeout ?? self.timeout
        let target = try Target(url)
        let what = "\(method.rawValue) \(target.host):\(target.port)\(target.path)"
        let deadline = Monotonic.nanos() &+ UInt64(max(limit, 0) * 1e9)

        var request: [UInt8] = []
        request.reserveCapacity(256 + body.count)
        request.append(contentsOf: "\(method.rawValue) \(target.pathAndQuery) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n".utf8)
        if !headers.contains("User-Agent") { request.append(contentsOf: "User-Agent: tmt-http-client\r\n".utf8) }
        for f in headers where ResponseWriter.isAllowedName(f.name) && !HTTPHeaders.namesEqual(f.name, "Host") {
            request.append(contentsOf: f.name.utf8)
            request.append(contentsOf: ": ".utf8)
            request.append(contentsOf: f.value.utf8.filter { $0 != 0x0D && $0 != 0x0A && $0 != 0 })
            request.append(contentsOf: "\r\n".utf8)
        }
        if !body.isEmpty || method == .post || method == .put || method == .patch {
            request.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
        }
        request.append(contentsOf: "Connection: close\r\n\r\n".utf8)
        request.append(contentsOf: body)

        let fd = try Socket.connect(host: target.host, port: target.port, timeout: limit)
        defer { close(fd) }
        var tv = timeval(seconds: Self.remaining(deadline))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard Socket.sendAll(fd, request) else {
            if Monotonic.nanos() >= deadline { throw TMTError(.timeout, "\(what) timed out after \(limit) s while sending") }
            throw TMTError(.connection, "\(what): connection lost while sending", detail: Socket.errorText(errno))
        }

        var received: [UInt8] = []
        var eof = false
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let response = try ResponseParser.parse(received, eof: eof, headRequest: method == .head, what: what) {
                return response
            }
            if eof { throw TMTError(.protocolViolation, "\(what): connection closed before the response was complete") }
            if received.count > maxResponseBytes {
                throw TMTError(.protocolViolation, "\(what): response exceeds \(maxResponseBytes) bytes")
            }
            let now = Monotonic.nanos()
            guard now < deadline else { throw TMTError(.timeout, "\(what) timed out after \(limit) s") }
            let ms = Int32(min((deadline - now + 999_999) / 1_000_000, 2_000_000))
            guard case .readable = Socket.waitReadable(fd, wakeFD: -1, timeoutMillis: ms) else { continue }
            let n = chunk.withUnsafeMutableBytes { Socket.receive(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw TMTError(.connection, "\(what): connection lost while receiving", detail: Socket.errorText(errno)) }
            if n == 0 { eof = true } else { received.append(contentsOf: chunk[0..<n]) }
        }
    }

    private static func remaining(_ deadline: UInt64) -> Double {
        let now = Monotonic.nanos()
        return now < deadline ? Double(deadline - now) / 1e9 : 0.001
    }

    /// The parts of an `http://host[:port]/path?query` URL the client needs.
    struct Target {
        var host: String
        var port: Int
        var hostHeader: String
        var path: String
        var pathAndQuery: String

        init(_ url: String) throws {
            guard url.lowercased().hasPrefix("http://") else {
                throw TMTError(.invalidArgument, "only http:// URLs are supported")
            }
            let rest = url.dropFirst(7)
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            var pq = String(rest[authorityEnd...])
            if let hash = pq.firstIndex(of: "#") { pq = String(pq[..<hash]) }
            if pq.isEmpty || pq.first == "?" { pq = "/" + pq }
            guard !authority.isEmpty, !authority.contains("@") else { throw TMTError(.invalidArgument, "URL has no usable host") }
            var host = String(authority)
            var port = 80
            if authority.first == "[" {
                guard let close = authority.firstIndex(of: "]") else { throw TMTError(.invalidArgument, "malformed IPv6 host in URL") }
                host = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                if after.first == ":" {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw TMTError(.invalidArgument, "invalid port in URL") }
                    port = p
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                    throw TMTError(.invalidArgument, "invalid port in URL")
                }
                port = p
            }
            guard !host.isEmpty, pq.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw TMTError(.invalidArgument, "URL contains characters that must be percent-encoded")
            }
            self.host = host
            self.port = port
            self.hostHeader = String(authority)
            self.pathAndQuery = pq
            self.path = String(pq.prefix { $0 != "?" })
        }
    }

    /// Parses a complete response out of the bytes received so far (nil = need more).
    enum ResponseParser {
        static func parse(_ bytes: [UInt8], eof: Bool, headRequest: Bool, what: String) throws -> HTTPClientResponse? {
            var offset = 0
            while true {
                guard let headEnd = findHeadEnd(bytes, from: offset) else { return nil }
                let lines = String(decoding: bytes[offset..<(headEnd - 4)], as: UTF8.self).components(separatedBy: "\r\n")
                let statusLine = lines[0].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
                // Three digits from 100 to 599 (RFC 9110 §15): "000" or "-10" would pass Int().
                guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), statusLine[1].count == 3,
                      statusLine[1].allSatisfy({ $0.isASCII && $0.isNumber }), let status = Int(statusLine[1]), (100...599).contains(status) else {
                    throw TMTError(.protocolViolation, "\(what): malformed status line")
                }
                var headers = HTTPHeaders()
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { throw TMTError(.protocolViolation, "\(what): malformed header line") }
                    headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingWhitespace())
                }
                if (100..<200).contains(status) {
                    offset = headEnd
                    continue
                }
                let reason = statusLine.count > 2 ? String(statusLine[2]) : ""
                let rest = bytes[headEnd...]
                if headRequest || status == 204 || status == 304 {
                    return HTTPClientResponse(status: status, reasonPhrase: reason, headers: headers, body: [])
                }
                if let te = headers["Transfer-Encoding"], te.lowercased().contains("chunked") {
                    guard let body = try dechunk(rest, what: what) else { return nil }
                    return HTTPClientResponse(status: status, reasonPhrase: reason, headers: headers, body: body)
                }
                if let cl = headers["Content-Length"] {
                    guard let n = Int(cl), n >= 0 else { throw TMTError(.protocolViolation, "\(what): invalid Content-Length") }
                    guard rest.count >= n else { return nil }
                    return HTTPClientResponse(status: status, reasonPhrase: reason, headers: headers, body: Array(rest.prefix(n)))
                }
                return eof ? HTTPClientResponse(status: status, reasonPhrase: reason, headers: headers, body: Array(rest)) : nil
            }
        }

        static func findHeadEnd(_ b: [UInt8], from: Int) -> Int? {
            guard b.count - from >= 4 else { return nil }
            var i = from
            while i + 3 < b.count {
                if b[i] == 0x0D && b[i + 1] == 0x0A && b[i + 2] == 0x0D && b[i + 3] == 0x0A { return i + 4 }
                i += 1
            }
            return nil
        }

        /// The body of a chunked message, nil if incomplete.
        static func dechunk(_ b: ArraySlice<UInt8>, what: String) throws -> [UInt8]? {
            var body: [UInt8] = []
            var i = b.startIndex
            while true {
                guard let lineEnd = indexOfCRLF(b, from: i) else { return nil }
                let sizeText = String(decoding: b[i..<lineEnd], as: UTF8.self).prefix { $0 != ";" }.trimmingWhitespace()
                guard let size = Int(sizeText, radix: 16), size >= 0 else {
                    throw TMTError(.protocolViolation, "\(what): malformed chunk size")
                }
                let dataStart = lineEnd + 2
                if size == 0 {
                    // Trailer section ends with an empty line.
                    var t = dataStart
                    while true {
                        guard let e = indexOfCRLF(b, from: t) else { return nil }
                        if e == t { return body }
                        t = e + 2
                    }
                }
                guard b.endIndex - dataStart >= size + 2 else { return nil }
                body.append(contentsOf: b[dataStart..<(dataStart + size)])
                i = dataStart + size + 2
            }
        }

        static func indexOfCRLF(_ b: ArraySlice<UInt8>, from: Int) -> Int? {
            var i = from
            while i + 1 < b.endIndex {
                if b[i] == 0x0D && b[i + 1] == 0x0A { return i }
                i += 1
            }
            return nil
        }
    }
}
