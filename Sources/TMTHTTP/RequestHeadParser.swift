import Glibc

/// Why a request could not be accepted before it reached a handler; answered with `status`
/// and `Connection: close`.
struct RequestRejection: Error {
    let status: HTTPStatus
    let code: String
    let message: String

    init(_ status: HTTPStatus, _ message: String, code: String? = nil) {
        self.status = status
        self.message = message
        self.code = code ?? HTTPError.defaultCode(status)
    }
}

/// The parsed request line and header section.
struct RequestHead {
    var method: HTTPMethod
    /// The request target exactly as sent.
    var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    var minorVersion: Int
    var headers: HTTPHeaders
    var contentLength: Int
    var keepAlive: Bool
    var expectContinue: Bool
}

/// Finds the end of a request head as bytes arrive, enforcing the line-ending and size rules
/// before the head is complete, so an oversized or malformed head is refused without buffering
/// it all. Offsets are relative to the first byte of the request.
struct HeadScanner {
    private(set) var scanned = 0
    /// Offset just past the request line's CRLF, once seen.
    private(set) var requestLineEnd: Int?
    private var lineStart = 0

    mutating func reset() {
        scanned = 0
        requestLineEnd = nil
        lineStart = 0
    }

    /// The offset just past the blank line ending the head, or nil if more bytes are needed.
    mutating func scan(_ base: UnsafePointer<UInt8>, count: Int, maxRequestLine: Int, maxHeaderBytes: Int) throws -> Int? {
        var i = scanned
        while i < count {
            guard let hit = memchr(base + i, 0x0A, count - i) else { break }
            let lf = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
            if lf == 0 || base[lf - 1] != 0x0D {
                throw RequestRejection(.badRequest, "line ending without CR (bare LF) is not accepted")
            }
            if let rle = requestLineEnd {
                if lf - 1 == lineStart {
                    if lf + 1 - rle - 2 > maxHeaderBytes {
                        throw RequestRejection(.requestHeaderFieldsTooLarge, "header section exceeds \(maxHeaderBytes) bytes")
                    }
                    return lf + 1
                }
            } else {
                if lf - 1 > maxRequestLine {
                    throw RequestRejection(.uriTooLong, "request line exceeds \(maxRequestLine) bytes")
                }
                requestLineEnd = lf + 1
            }
            lineStart = lf + 1
            i = lf + 1
        }
        scanned = count
        if let rle = requestLineEnd {
            if count - rle > maxHeaderBytes + 2 {
                throw RequestRejection(.requestHeaderFieldsTooLarge, "header section exceeds \(maxHeaderBytes) bytes")
            }
        } else if count > maxRequestLine + 1 {
            throw RequestRejection(.uriTooLong, "request line exceeds \(maxRequestLine) bytes")
        }
        return nil
    }
}

/// Parses a complete request head strictly (RFC 9112): anything ambiguous is refused rather than
/// guessed at, because a proxy in front may have guessed differently (request smuggling).
enum RequestHeadParser {
    static func parse(_ b: UnsafeBufferPointer<UInt8>, requestLineEnd rle: Int, maxHeaderCount: Int) throws -> RequestHead {
        let lineEnd = rle - 2
        // Request line: method SP request-target SP HTTP-version, single spaces only.
        var sp1 = 0
        while sp1 < lineEnd && b[sp1] != 0x20 { sp1 += 1 }
        guard sp1 > 0, sp1 < lineEnd else { throw RequestRejection(.badRequest, "malformed request line") }
        for i in 0..<sp1 where !isTokenChar(b[i]) {
            throw RequestRejection(.badRequest, "invalid character in method")
        }
        var sp2 = sp1 + 1
        while sp2 < lineEnd && b[sp2] != 0x20 { sp2 += 1 }
        guard sp2 > sp1 + 1, sp2 < lineEnd else { throw RequestRejection(.badRequest, "malformed request line") }
        for i in (sp1 + 1)..<sp2 where !(0x21...0x7E).contains(b[i]) {
            throw RequestRejection(.badRequest, "invalid character in request target")
        }
        let minor = try version(b, from: sp2 + 1, to: lineEnd)

        var headers = HTTPHeaders()
        var contentLength: Int?
        var transferEncoding = false
        var hostCount = 0
        var close = false
        var keepAliveToken = false
        var expectContinue = false
        var count = 0
        var pos = rle
        let end = b.count - 2
        while pos < end {
            var eol = pos
            while b[eol] != 0x0D || b[eol + 1] != 0x0A { eol += 1 }
            if b[pos] == 0x20 || b[pos] == 0x09 {
                throw RequestRejection(.badRequest, "obsolete line folding is not accepted")
            }
            var colon = pos
            while colon < eol && b[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < eol else { throw RequestRejection(.badRequest, "header line without a colon") }
            guard colon > pos else { throw RequestRejection(.badRequest, "empty header name") }
            if b[colon - 1] == 0x20 || b[colon - 1] == 0x09 {
                throw RequestRejection(.badRequest, "whitespace between header name and colon is not accepted")
            }
            for i in pos..<colon where !isTokenChar(b[i]) {
                throw RequestRejection(.badRequest, "invalid character in header name")
            }
            var vs = colon + 1
            var ve = eol
            while vs < ve && (b[vs] == 0x20 || b[vs] == 0x09) { vs += 1 }
            while ve > vs && (b[ve - 1] == 0x20 || b[ve - 1] == 0x09) { ve -= 1 }
            for i in vs..<ve {
                let c = b[i]
                if c < 0x20 && c != 0x09 || c == 0x7F {
                    throw RequestRejection(.badRequest, "invalid character in header value")
                }
            }
            count += 1
            if count > maxHeaderCount {
                throw RequestRejection(.requestHeaderFieldsTooLarge, "more than \(maxHeaderCount) header fields")
            }
            let name = UnsafeBufferPointer(rebasing: b[pos..<colon])
            let value = UnsafeBufferPointer(rebasing: b[vs..<ve])
            if equalsLower(name, "content-length") {
                guard contentLength == nil else { throw RequestRejection(.badRequest, "duplicate Content-Length") }
                contentLength = try decimal(value)
            } else if equalsLower(name, "transfer-encoding") {
                transferEncoding = true
            } else if equalsLower(name, "host") {
                hostCount += 1
            } else if equalsLower(name, "connection") {
                forEachToken(value) { token in
                    if equalsLower(token, "close") { close = true } else if equalsLower(token, "keep-alive") { keepAliveToken = true }
                }
            } else if equalsLower(name, "expect") {
                guard equalsLower(value, "100-continue") else {
                    throw RequestRejection(.expectationFailed, "only 'Expect: 100-continue' is supported")
                }
                expectContinue = true
            }
            headers.add(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
            pos = eol + 2
        }
        if transferEncoding {
            if contentLength != nil {
                throw RequestRejection(.badRequest, "Content-Length together with Transfer-Encoding is not accepted")
            }
            throw RequestRejection(.notImplemented, "Transfer-Encoding is not supported; send Content-Length")
        }
        if minor == 1 && hostCount != 1 {
            throw RequestRejection(.badRequest, hostCount == 0 ? "missing Host header" : "more than one Host header")
        }
        if hostCount > 1 { throw RequestRejection(.badRequest, "more than one Host header") }
        return RequestHead(
            method: HTTPMethod(String(decoding: UnsafeBufferPointer(rebasing: b[0..<sp1]), as: UTF8.self)),
            target: String(decoding: UnsafeBufferPointer(rebasing: b[(sp1 + 1)..<sp2]), as: UTF8.self),
            minorVersion: minor,
            headers: headers,
            contentLength: contentLength ?? 0,
            keepAlive: minor == 1 ? !close : (keepAliveToken && !close),
            expectContinue: expectContinue)
    }

    private static func version(_ b: UnsafeBufferPointer<UInt8>, from s: Int, to e: Int) throws -> Int {
        let prefix: [UInt8] = Array("HTTP/".utf8)
        guard e - s == 8, (0..<5).allSatisfy({ b[s + $0] == prefix[$0] }), isDigit(b[s + 5]), b[s + 6] == UInt8(ascii: "."), isDigit(b[s + 7]) else {
            throw RequestRejection(.badRequest, "malformed HTTP version")
        }
        guard b[s + 5] == UInt8(ascii: "1"), b[s + 7] <= UInt8(ascii: "1") else {
            throw RequestRejection(.httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are supported")
        }
        return Int(b[s + 7] - UInt8(ascii: "0"))
    }

    /// A Content-Length: one or more ASCII digits, nothing else (no sign, space, list or
    /// overflow).
    private static func decimal(_ v: UnsafeBufferPointer<UInt8>) throws -> Int {
        guard !v.isEmpty else { throw RequestRejection(.badRequest, "empty Content-Length") }
        var n = 0
        for c in v {
            guard isDigit(c) else { throw RequestRejection(.badRequest, "Content-Length is not a decimal number") }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
            if o1 || o2 { throw RequestRejection(.badRequest, "Content-Length is too large") }
            n = a
        }
        return n
    }

    private static func forEachToken(_ v: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var i = 0
        while i < v.count {
            while i < v.count && (v[i] == 0x20 || v[i] == 0x09 || v[i] == UInt8(ascii: ",")) { i += 1 }
            let s = i
            while i < v.count && v[i] != UInt8(ascii: ",") { i += 1 }
            var e = i
            while e > s && (v[e - 1] == 0x20 || v[e - 1] == 0x09) { e -= 1 }
            if e > s { body(UnsafeBufferPointer(rebasing: v[s..<e])) }
        }
    }

    /// Whether `bytes`, lower-cased, equal `lower` (which must be lower-case ASCII).
    static func equalsLower(_ bytes: UnsafeBufferPointer<UInt8>, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        for i in 0..<bytes.count where HTTPHeaders.lower(bytes[i]) != l[i] { return false }
        return true
    }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// RFC 9110 `tchar`.
    @inline(__always)
    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }
}
