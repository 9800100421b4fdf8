import TMTBase

/// Writes the body of a streaming response (`HTTPResponse.Body.stream`), for example
/// Server-Sent Events.
///
/// A writer belongs to the connection thread that runs the stream closure; do not hand it to
/// other threads. Every write goes straight to the socket (one `send` each). Writes throw
/// `TMTError(.closed)` once the client has disconnected or the server is shutting down, which is
/// the stream's cue to return.
public final class HTTPStreamWriter {
    private let fd: Int32
    private let chunked: Bool
    private let context: HTTPServerContext
    private var broken = false
    private var frame: [UInt8] = []
    /// Bytes of body written so far (without chunk framing).
    public private(set) var bytesWritten = 0

    init(fd: Int32, chunked: Bool, context: HTTPServerContext) {
        self.fd = fd
        self.chunked = chunked
        self.context = context
    }

    /// Whether the client is still connected and the server is not shutting down.
    public var isOpen: Bool {
        if broken || context.isShuttingDown { return false }
        return !Socket.waitPeerClosed(fd, wakeFD: -1, timeoutMillis: 0).closed
    }

    /// Sleeps up to `seconds`, returning early if the client disconnects or the server starts
    /// shutting down. Returns `isOpen` afterwards, so a producer loop reads
    /// `while writer.wait(seconds: 1) { try writer.sendEvent(…) }`.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        guard isOpen else { return false }
        let deadline = Monotonic.nanos() &+ UInt64(max(seconds, 0) * 1e9)
        while true {
            let now = Monotonic.nanos()
            if now >= deadline { break }
            let ms = Int32(min(Double(deadline - now) / 1e6 + 1, 2_000_000))
            let r = Socket.waitPeerClosed(fd, wakeFD: context.wakeRead, timeoutMillis: ms)
            if r.closed { broken = true; return false }
            if r.woken { return false }
        }
        return isOpen
    }

    /// Writes raw body bytes. An empty write does nothing.
    public func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try checkOpen()
        frame.removeAll(keepingCapacity: true)
        if chunked {
            ResponseWriter.appendHex(bytes.count, to: &frame)
            frame.append(0x0D); frame.append(0x0A)
            frame.append(contentsOf: bytes)
            frame.append(0x0D); frame.append(0x0A)
        } else {
            frame.append(contentsOf: bytes)
        }
        guard Socket.sendAll(fd, frame) else {
            broken = true
            throw TMTError(.closed, "the client disconnected")
        }
        bytesWritten += bytes.count
    }

    /// Writes UTF-8 text.
    public func write(_ text: String) throws {
        try write(Array(text.utf8))
    }

    /// Writes one Server-Sent Event: optional `event:` and `id:` lines, then one `data:` line per
    /// line of `data`, then a blank line. CR and LF in `event` and `id` are removed so they cannot
    /// start a new field.
    public func sendEvent(_ data: String, event: String? = nil, id: String? = nil) throws {
        var out = ""
        if let event { out += "event: \(Self.singleLine(event))\n" }
        if let id { out += "id: \(Self.singleLine(id))\n" }
        var sawLine = false
        for line in data.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            out += "data: "
            out += line
            out += "\n"
            sawLine = true
        }
        if !sawLine { out += "data: \n" }
        out += "\n"
        try write(out)
    }

    /// Writes an SSE comment line (`: text`), which clients ignore; useful as a keep-alive so
    /// proxies do not time the stream out and a vanished client is noticed.
    public func sendComment(_ text: String = "") throws {
        try write(": \(Self.singleLine(text))\n\n")
    }

    private func checkOpen() throws {
        if broken { throw TMTError(.closed, "the client disconnected") }
        if context.isShuttingDown { throw TMTError(.closed, "the server is shutting down") }
    }

    private static func singleLine(_ s: String) -> String {
        s.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) ? String(s.filter { $0 != "\n" && $0 != "\r" && $0 != "\r\n" }) : s
    }

    /// Whether a write failed because the client went away.
    var clientGone: Bool { broken }
}
