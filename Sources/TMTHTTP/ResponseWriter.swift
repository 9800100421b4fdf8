import Glibc

/// Renders response heads into a reusable buffer, so a typical response costs one allocation-free
/// render and one `send`. One per connection (not thread-safe).
struct ResponseWriter {
    enum ConnectionHeader {
        /// No `Connection` field (HTTP/1.1 keep-alive is the default).
        case none
        case close
        case keepAlive
    }

    enum Framing {
        case length(Int)
        case chunked
        /// Body ends when the connection closes (HTTP/1.0 streams), or no body at all.
        case none
    }

    private(set) var buffer: [UInt8] = []
    private var dateSecond = -1
    private var dateField: [UInt8] = []

    init() {
        buffer.reserveCapacity(1024)
    }

    /// Renders status line and headers (sanitised), ending with the blank line. The body, if
    /// `inlineBody` is given, is appended so head and body go out in one `send`.
    mutating func render(status: HTTPStatus, headers: HTTPHeaders, framing: Framing, connection: ConnectionHeader,
                         inlineBody: [UInt8]? = nil) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: "HTTP/1.1 ".utf8)
        Self.appendDecimal(status.code, to: &buffer)
        buffer.append(0x20)
        buffer.append(contentsOf: status.reasonPhrase.utf8)
        buffer.append(0x0D); buffer.append(0x0A)
        appendDate()
        for field in headers where Self.isAllowedName(field.name) {
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: ":")); buffer.append(0x20)
            for c in field.value.utf8 where c != 0x0D && c != 0x0A && c != 0 {
                buffer.append(c)
            }
            buffer.append(0x0D); buffer.append(0x0A)
        }
        switch framing {
        case .length(let n):
            buffer.append(contentsOf: "Content-Length: ".utf8)
            Self.appendDecimal(n, to: &buffer)
            buffer.append(0x0D); buffer.append(0x0A)
        case .chunked:
            buffer.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        case .none:
            break
        }
        switch connection {
        case .none: break
        case .close: buffer.append(contentsOf: "Connection: close\r\n".utf8)
        case .keepAlive: buffer.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        buffer.append(0x0D); buffer.append(0x0A)
        if let inlineBody { buffer.append(contentsOf: inlineBody) }
    }

    /// A header name a handler may set: a valid token, and not one of the fields the server
    /// owns because they decide message framing.
    static func isAllowedName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.allSatisfy(RequestHeadParser.isTokenChar) else { return false }
        for reserved in ["Content-Length", "Transfer-Encoding", "Connection", "Date", "Keep-Alive", "Upgrade"]
            where HTTPHeaders.namesEqual(name, reserved) {
            return false
        }
        return true
    }

    /// `Date: <IMF-fixdate>`, re-rendered at most once a second.
    private mutating func appendDate() {
        var now = time(nil)
        if now != dateSecond {
            dateSecond = now
            var t = tm()
            gmtime_r(&now, &t)
            let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            var d: [UInt8] = Array("Date: ".utf8)
            d.append(contentsOf: days[Int(t.tm_wday)].utf8)
            d.append(contentsOf: ", ".utf8)
            Self.appendTwoDigits(Int(t.tm_mday), to: &d)
            d.append(0x20)
            d.append(contentsOf: months[Int(t.tm_mon)].utf8)
            d.append(0x20)
            Self.appendDecimal(Int(t.tm_year) + 1900, to: &d)
            d.append(0x20)
            Self.appendTwoDigits(Int(t.tm_hour), to: &d)
            d.append(UInt8(ascii: ":"))
            Self.appendTwoDigits(Int(t.tm_min), to: &d)
            d.append(UInt8(ascii: ":"))
            Self.appendTwoDigits(Int(t.tm_sec), to: &d)
            d.append(contentsOf: " GMT\r\n".utf8)
            dateField = d
        }
        buffer.append(contentsOf: dateField)
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            appendDecimal(0 - value, to: &out)
            return
        }
        if value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        appendDecimal(value / 10, to: &out)
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    static func appendTwoDigits(_ value: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    static func appendHex(_ value: Int, to out: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        if value >= 16 { appendHex(value >> 4, to: &out) }
        out.append(digits.utf8Start[value & 0xF])
    }
}
