import Glibc
import TMTBase
import TMTMetrics

/// Serves one client connection on the calling thread: reads a request, answers it, and repeats
/// while the connection is kept alive. Bytes that arrive after a request (pipelining) stay
/// buffered for the next one, so responses go out in request order.
final class HTTPConnection {
    enum Ending {
        /// Close right away.
        case close
        /// An error response was sent while input may still be unread: half-close and drain first.
        case linger
    }

    private enum Outcome {
        case keepAlive
        case end(Ending)
    }

    private enum BodyRead {
        case complete([UInt8])
        case timedOut
        case closed
    }

    private let fd: Int32
    private let peer: String
    private let context: HTTPServerContext
    private let config: HTTPServerConfiguration
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private let maxCapacity: Int
    private var start = 0
    private var end = 0
    private var scanner = HeadScanner()
    private var writer = ResponseWriter()
    private let idleNanos: UInt64
    private let readNanos: UInt64
    private var counters: [Int: Counter] = [:]
    private var histograms: [Int: Histogram] = [:]

    /// Route keys for metrics when no route pattern applies.
    private static let unmatchedRoute = -1
    private static let invalidRoute = -2

    init(fd: Int32, peer: String, context: HTTPServerContext) {
        self.fd = fd
        self.peer = peer
        self.context = context
        self.config = context.configuration
        capacity = 4096
        buffer = .allocate(capacity: capacity)
        // A full buffer always holds either a complete head or more than the limits allow (the
        // scanner then rejects it), so it never needs to grow past this.
        maxCapacity = config.maxRequestLineBytes + config.maxHeaderBytes + 1024
        idleNanos = UInt64(config.idleTimeout * 1e9)
        readNanos = UInt64(config.readTimeout * 1e9)
    }

    deinit {
        buffer.deallocate()
    }

    func run() -> Ending {
        var lastActivity = Monotonic.nanos()
        var requestStart: UInt64 = 0
        while true {
            if scanner.requestLineEnd == nil {
                // RFC 9112 §2.2: ignore empty lines before a request line (some clients send an
                // extra CRLF after a body).
                while end - start >= 2 && buffer[start] == 0x0D && buffer[start + 1] == 0x0A {
                    start += 2
                    scanner.reset()
                }
                if start == end {
                    start = 0
                    end = 0
                    scanner.reset()
                    requestStart = 0
                }
            }
            if start < end {
                if requestStart == 0 { requestStart = Monotonic.nanos() }
                let headEnd: Int?
                do {
                    headEnd = try scanner.scan(buffer + start, count: end - start, maxRequestLine: config.maxRequestLineBytes,
                                               maxHeaderBytes: config.maxHeaderBytes)
                } catch {
                    reject(error as? RequestRejection ?? RequestRejection(.badRequest, "malformed request"), requestStart: requestStart)
                    return .linger
                }
                if let headEnd {
                    let outcome = serve(headEnd: headEnd, requestStart: requestStart)
                    scanner.reset()
                    requestStart = 0
                    lastActivity = Monotonic.nanos()
                    if case .end(let ending) = outcome { return ending }
                    continue
                }
            }

            let idle = requestStart == 0
            if idle && context.isShuttingDown { return .close }
            let deadline = idle ? lastActivity &+ idleNanos : requestStart &+ readNanos
            let now = Monotonic.nanos()
            if now >= deadline {
                if idle { return .close }
                reject(RequestRejection(.requestTimeout, "request not received within \(config.readTimeout) s"), requestStart: requestStart)
                return .linger
            }
            switch Socket.waitReadable(fd, wakeFD: idle ? context.wakeRead : -1, timeoutMillis: Self.millis(until: deadline, from: now)) {
            case .timedOut, .woken:
                continue
            case .readable:
                makeRoom()
                let n = Socket.receive(fd, buffer + end, capacity - end)
                if n <= 0 { return .close }
                end += n
            }
        }
    }

    private static func millis(until deadline: UInt64, from now: UInt64) -> Int32 {
        Int32(min((deadline - now + 999_999) / 1_000_000, 2_000_000))
    }

    /// Ensures free space at the end of the buffer: moves pending bytes to the front, then grows.
    private func makeRoom() {
        if capacity - end >= 1024 { return }
        if start > 0 {
            let pending = end - start
            if pending > 0 { memmove(buffer, buffer + start, pending) }
            start = 0
            end = pending
            if capacity - end >= 1024 { return }
        }
        guard capacity < maxCapacity else { return }
        let newCapacity = min(capacity * 2, maxCapacity)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: buffer, count: end)
        buffer.deallocate()
        buffer = grown
        capacity = newCapacity
    }

    // MARK: - One request

    private func serve(headEnd: Int, requestStart: UInt64) -> Outcome {
        let head: RequestHead
        do {
            head = try RequestHeadParser.parse(UnsafeBufferPointer(start: buffer + start, count: headEnd),
                                               requestLineEnd: scanner.requestLineEnd ?? headEnd,
                                               maxHeaderCount: config.maxHeaderCount)
        } catch {
            reject(error as? RequestRejection ?? RequestRejection(.badRequest, "malformed request"), requestStart: requestStart)
            return .end(.linger)
        }
        let methodIndex = head.method.labelIndex

        guard let target = Self.originForm(head.target) else {
            reject(RequestRejection(.badRequest, "unsupported request target form"), requestStart: requestStart, methodIndex: methodIndex)
            return .end(.linger)
        }
        let (pathPart, queryPart) = HTTPRequest.split(target: target)
        let path = String(pathPart)
        var query: [HTTPQueryItem] = []
        if let q = queryPart, !q.isEmpty {
            guard let items = PercentDecoding.queryItems(q) else {
                reject(RequestRejection(.badRequest, "malformed percent-encoding in query"), requestStart: requestStart, methodIndex: methodIndex)
                return .end(.linger)
            }
            query = items
        }

        let match = context.router.match(method: head.method, path: path)
        var routeKey = Self.unmatchedRoute
        var routeLabel = "unmatched"
        var bodyLimit = config.maxBodyBytes
        if case .found(let route, _) = match {
            routeKey = route.id
            routeLabel = route.pattern
            bodyLimit = route.maxBodyBytes ?? bodyLimit
        }
        if head.contentLength > bodyLimit {
            reject(RequestRejection(.contentTooLarge, "request body exceeds \(bodyLimit) bytes"), requestStart: requestStart,
                   methodIndex: methodIndex, routeKey: routeKey, routeLabel: routeLabel)
            return .end(.linger)
        }
        start += headEnd

        var body: [UInt8] = []
        if head.contentLength > 0 {
            switch readBody(count: head.contentLength, expectContinue: head.expectContinue && head.minorVersion == 1,
                            deadline: requestStart &+ readNanos) {
            case .complete(let b):
                body = b
            case .timedOut:
                reject(RequestRejection(.requestTimeout, "request body not received within \(config.readTimeout) s"),
                       requestStart: requestStart, methodIndex: methodIndex, routeKey: routeKey, routeLabel: routeLabel)
                return .end(.linger)
            case .closed:
                return .end(.close)
            }
        }
        if start == end {
            start = 0
            end = 0
        }

        let response: HTTPResponse
        switch match {
        case .found(let route, let params):
            let request = HTTPRequest(method: head.method, path: path, query: query, headers: head.headers, body: body,
                                      pathParameters: params, remoteAddress: peer,
                                      version: head.minorVersion == 1 ? "HTTP/1.1" : "HTTP/1.0", route: route.pattern)
            response = HTTPRouter.invoke(route, request, logger: context.logger)
        case .methodNotAllowed(let allow):
            response = HTTPRouter.methodNotAllowed(head.method, allow: allow)
        case .notFound:
            response = HTTPResponse.error(status: .notFound, code: "not_found", message: "no route for this path")
        case .invalidPath:
            response = HTTPResponse.error(status: .badRequest, code: "bad_request", message: "malformed percent-encoding in path")
        }

        var keepAlive = head.keepAlive && !context.isShuttingDown
        if keepAlive, let c = response.headers["Connection"], c.lowercased().contains("close") { keepAlive = false }
        let outcome = write(response, head: head, keepAlive: keepAlive)
        record(methodIndex: methodIndex, routeKey: routeKey, routeLabel: routeLabel, status: response.status.code, since: requestStart)
        return outcome
    }

    /// The path-and-query part of a request target: origin-form as is, absolute-form
    /// (`http://host/path`) reduced to its path as RFC 9112 §3.2.2 requires servers to accept,
    /// `*` kept (it matches no route). Nil for anything else.
    private static func originForm(_ target: String) -> Substring? {
        let t = Substring(target)
        if t.utf8.first == UInt8(ascii: "/") || t == "*" { return t }
        for scheme in ["http://", "https://"] where t.lowercased().hasPrefix(scheme) {
            let rest = t.dropFirst(scheme.count)
            guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
            return rest[slash] == "/" ? rest[slash...] : "/" + rest[slash...]
        }
        return nil
    }

    private func readBody(count: Int, expectContinue: Bool, deadline: UInt64) -> BodyRead {
        let take = min(end - start, count)
        var result = BodyRead.closed
        let body = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            let base = out.baseAddress!
            base.update(from: buffer + start, count: take)
            start += take
            var have = take
            if have < count && expectContinue {
                guard Socket.sendAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else {
                    initialized = have
                    return
                }
            }
            while have < count {
                let now = Monotonic.nanos()
                if now >= deadline {
                    result = .timedOut
                    initialized = have
                    return
                }
                if case .readable = Socket.waitReadable(fd, wakeFD: -1, timeoutMillis: Self.millis(until: deadline, from: now)) {
                    let n = Socket.receive(fd, base + have, count - have)
                    if n <= 0 {
                        result = .closed
                        initialized = have
                        return
                    }
                    have += n
                }
            }
            initialized = have
            result = .complete([])
        }
        if case .complete = result { return .complete(body) }
        return result
    }

    // MARK: - Responses

    private func write(_ response: HTTPResponse, head: RequestHead, keepAlive: Bool) -> Outcome {
        let isHead = head.method == .head
        let noBody = isHead || response.status.forbidsBody
        let connection: ResponseWriter.ConnectionHeader = !keepAlive ? .close : (head.minorVersion == 0 ? .keepAlive : .none)
        switch response.body {
        case .bytes(let body):
            let framing: ResponseWriter.Framing = response.status.forbidsBody ? .none : .length(body.count)
            if noBody || body.count <= 16 * 1024 {
                writer.render(status: response.status, headers: response.headers, framing: framing, connection: connection,
                              inlineBody: noBody ? nil : body)
                guard Socket.sendAll(fd, writer.buffer) else { return .end(.close) }
            } else {
                writer.render(status: response.status, headers: response.headers, framing: framing, connection: connection)
                guard Socket.sendAll(fd, writer.buffer, more: true), Socket.sendAll(fd, body) else { return .end(.close) }
            }
            return keepAlive ? .keepAlive : .end(.close)

        case .stream(let produce):
            if noBody {
                writer.render(status: response.status, headers: response.headers, framing: .none, connection: connection)
                guard Socket.sendAll(fd, writer.buffer) else { return .end(.close) }
                return keepAlive ? .keepAlive : .end(.close)
            }
            let chunked = head.minorVersion == 1
            writer.render(status: response.status, headers: response.headers, framing: chunked ? .chunked : .none,
                          connection: chunked ? connection : .close)
            guard Socket.sendAll(fd, writer.buffer) else { return .end(.close) }
            let stream = HTTPStreamWriter(fd: fd, chunked: chunked, context: context)
            var failed = false
            do {
                try produce(stream)
            } catch let e as TMTError where e.code == .closed {
                // The writer told the producer the client left or the server is stopping.
            } catch {
                context.logger.error("stream producer failed", ["peer": peer, "error": "\(error)"])
                failed = true
            }
            // A failed producer ends without the terminating chunk, so the client sees a
            // truncated stream rather than a clean end.
            guard chunked, !failed, !stream.clientGone else { return .end(.close) }
            guard Socket.sendAll(fd, Array("0\r\n\r\n".utf8)) else { return .end(.close) }
            return keepAlive && !context.isShuttingDown ? .keepAlive : .end(.close)
        }
    }

    /// Answers a request that cannot be served with a JSON error and `Connection: close`.
    private func reject(_ r: RequestRejection, requestStart: UInt64, methodIndex: Int = HTTPMethod.labelled.count,
                        routeKey: Int = HTTPConnection.invalidRoute, routeLabel: String = "invalid") {
        let response = HTTPResponse.error(status: r.status, code: r.code, message: r.message)
        writer.render(status: r.status, headers: response.headers, framing: .length(response.bodyBytes.count),
                      connection: .close, inlineBody: response.bodyBytes)
        _ = Socket.sendAll(fd, writer.buffer)
        record(methodIndex: methodIndex, routeKey: routeKey, routeLabel: routeLabel, status: r.status.code,
               since: requestStart == 0 ? Monotonic.nanos() : requestStart)
    }

    private func record(methodIndex: Int, routeKey: Int, routeLabel: String, status: Int, since: UInt64) {
        let counterKey = (routeKey + 2) << 20 | methodIndex << 10 | status
        let counter: Counter
        if let c = counters[counterKey] {
            counter = c
        } else {
            counter = context.metrics.requests.labels(HTTPMethod.label(at: methodIndex), routeLabel, String(status))
            counters[counterKey] = counter
        }
        counter.inc()
        let histogramKey = (routeKey + 2) << 4 | methodIndex
        let histogram: Histogram
        if let h = histograms[histogramKey] {
            histogram = h
        } else {
            histogram = context.metrics.duration.labels(HTTPMethod.label(at: methodIndex), routeLabel)
            histograms[histogramKey] = histogram
        }
        histogram.observe(Monotonic.secondsSince(since))
    }
}
