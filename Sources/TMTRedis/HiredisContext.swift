// All hiredis C interop lives here: connecting, argv commands, pipelining and reply decoding.
// Nothing else in the module touches a `redisContext` or a `redisReply`.
import CHiredis
import TMTBase

/// Why a hiredis call failed; the context is unusable afterwards (hiredis sets `c->err`).
struct HiredisFailure: Error {
    enum Kind: Sendable {
        /// The socket failed or the server closed it.
        case io
        /// `SO_RCVTIMEO`/`SO_SNDTIMEO` expired: the command timeout.
        case timeout
        /// The server sent something that is not RESP.
        case protocolError
        /// hiredis could not allocate memory, or another local failure.
        case other
    }

    var kind: Kind
    /// hiredis's `errstr`: no command data, safe to keep as detail.
    var message: String
}

/// Owns one `redisContext` in blocking mode. Not thread safe: `RedisConnection` guarantees
/// one thread at a time.
final class HiredisContext {
    private let ctx: UnsafeMutablePointer<redisContext>
    /// Blocks SIGPIPE around writes unless the process already ignores it.
    private let guardSigpipe: Bool

    private init(_ ctx: UnsafeMutablePointer<redisContext>) {
        self.ctx = ctx
        self.guardSigpipe = !SigpipeGuard.isIgnoredProcessWide()
    }

    deinit { redisFree(ctx) }

    /// Connects with `connectTimeout`, then sets `commandTimeout` (0 = none) on the socket.
    static func connect(host: String, port: Int, connectTimeout: Double, commandTimeout: Double) throws(HiredisFailure) -> HiredisContext {
        guard let c = redisConnectWithTimeout(host, Int32(port), timeval(seconds: connectTimeout)) else {
            throw HiredisFailure(kind: .other, message: "could not allocate a hiredis context")
        }
        if c.pointee.err != 0 {
            let failure = failure(of: c, savedErrno: errno)
            redisFree(c)
            throw failure
        }
        let context = HiredisContext(c)
        if commandTimeout > 0, redisSetTimeout(c, timeval(seconds: commandTimeout)) != REDIS_OK {
            throw failure(of: c, savedErrno: errno)
        }
        return context
    }

    /// True once hiredis has flagged the context as failed.
    var isBroken: Bool { ctx.pointee.err != 0 }

    /// True when the socket is readable while no reply is expected: the server closed an idle
    /// connection (restart, `timeout` setting, `CLIENT KILL`) or sent stray bytes. Either way the
    /// connection must be replaced before a command is sent, which is always safe.
    var isStale: Bool {
        var pfd = pollfd(fd: ctx.pointee.fd, events: Int16(POLLIN), revents: 0)
        while true {
            let n = poll(&pfd, 1, 0)
            if n < 0 && errno == EINTR { continue }
            return n != 0
        }
    }

    /// Sends one command and reads its reply (`redisCommandArgv`).
    func command(_ arguments: [[UInt8]]) throws(HiredisFailure) -> RedisReply {
        let (raw, savedErrno) = withSigpipeGuard {
            Self.withArgv(arguments) { argc, argv, lengths in
                let r = redisCommandArgv(ctx, argc, argv, lengths)
                return (r, errno)
            }
        }
        guard let raw else { throw Self.failure(of: ctx, savedErrno: savedErrno) }
        defer { freeReplyObject(raw) }
        return Self.decode(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Queues one command in the output buffer (`redisAppendCommandArgv`); nothing is sent until
    /// `readReply()`.
    func append(_ arguments: [[UInt8]]) throws(HiredisFailure) {
        let rc = Self.withArgv(arguments) { argc, argv, lengths in
            redisAppendCommandArgv(ctx, argc, argv, lengths)
        }
        if rc != REDIS_OK { throw Self.failure(of: ctx, savedErrno: errno) }
    }

    /// Flushes queued commands if needed and reads the next reply (`redisGetReply`).
    func readReply() throws(HiredisFailure) -> RedisReply {
        let (rc, raw, savedErrno) = withSigpipeGuard {
            var raw: UnsafeMutableRawPointer?
            let rc = redisGetReply(ctx, &raw)
            return (rc, raw, errno)
        }
        guard rc == REDIS_OK, let raw else { throw Self.failure(of: ctx, savedErrno: savedErrno) }
        defer { freeReplyObject(raw) }
        return Self.decode(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func withSigpipeGuard<R>(_ body: () -> R) -> R {
        guardSigpipe ? SigpipeGuard.run(body) : body()
    }

    // MARK: - Arguments

    /// Lays all arguments out in one buffer and calls `body` with `argc`, `argv` and `argvlen`
    /// pointing into it. Lengths are explicit, so arguments may hold any bytes, NUL included.
    static func withArgv<R>(_ arguments: [[UInt8]],
                            _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        var flat: [UInt8] = []
        flat.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        var lengths: [Int] = []
        offsets.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        for a in arguments {
            offsets.append(flat.count)
            lengths.append(a.count)
            flat.append(contentsOf: a)
        }
        flat.append(0) // so the buffer has an address even when every argument is empty
        return flat.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                var pointers: [UnsafePointer<CChar>?] = offsets.map { chars.baseAddress! + $0 }
                return pointers.withUnsafeMutableBufferPointer { argv in
                    lengths.withUnsafeBufferPointer { argvlen in
                        body(Int32(arguments.count), argv.baseAddress!, argvlen.baseAddress!)
                    }
                }
            }
        }
    }

    // MARK: - Replies

    static func decode(_ r: UnsafePointer<redisReply>) -> RedisReply {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING: return .bulk(bytes(reply.str, reply.len))
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                if let element = reply.element[i] { items.append(decode(element)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .error("unknown hiredis reply type \(reply.type)")
        }
    }

    private static func bytes(_ str: UnsafeMutablePointer<CChar>?, _ len: Int) -> [UInt8] {
        guard let str, len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: str, count: len))
    }

    // MARK: - Errors

    private static func failure(of c: UnsafeMutablePointer<redisContext>, savedErrno: Int32) -> HiredisFailure {
        let message = withUnsafeBytes(of: c.pointee.errstr) { buf in
            String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self)
        }
        switch c.pointee.err {
        case REDIS_ERR_IO:
            // hiredis reports an expired SO_RCVTIMEO/SO_SNDTIMEO as an I/O error whose errno is EAGAIN.
            let eagain = String(cString: strerror(EAGAIN))
            if savedErrno == EAGAIN || savedErrno == EWOULDBLOCK || message == eagain {
                return HiredisFailure(kind: .timeout, message: message)
            }
            return HiredisFailure(kind: .io, message: message)
        case REDIS_ERR_EOF:
            return HiredisFailure(kind: .io, message: message.isEmpty ? "Server closed the connection" : message)
        case REDIS_ERR_PROTOCOL:
            return HiredisFailure(kind: .protocolError, message: message)
        default:
            return HiredisFailure(kind: .other, message: message.isEmpty ? "hiredis call failed" : message)
        }
    }
}

/// The RESP wire format, through hiredis's own encoder and reader, without a socket. Lets unit
/// tests check argument encoding and reply decoding exactly as connections do them.
enum HiredisProtocol {
    /// The bytes `redisAppendCommandArgv` would send for these arguments.
    static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        HiredisContext.withArgv(arguments) { argc, argv, lengths in
            var target: UnsafeMutablePointer<CChar>?
            let n = redisFormatCommandArgv(&target, argc, argv, lengths)
            guard n >= 0, let target else { return [] }
            defer { redisFreeCommand(target) }
            return Array(UnsafeRawBufferPointer(start: target, count: Int(n)))
        }
    }

    /// Every complete reply in `bytes`; throws `TMTError(.protocolViolation, …)` for bytes that are
    /// not RESP.
    static func decode(_ bytes: [UInt8]) throws -> [RedisReply] {
        guard let reader = redisReaderCreate() else { throw TMTError(.io, "could not allocate a hiredis reader") }
        defer { redisReaderFree(reader) }
        let fed = bytes.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, buf.count) }
        }
        guard fed == REDIS_OK else { throw TMTError(.protocolViolation, "hiredis reader rejected input") }
        var replies: [RedisReply] = []
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                let message = withUnsafeBytes(of: reader.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                throw TMTError(.protocolViolation, "invalid RESP from Redis", detail: message)
            }
            guard let raw else { return replies }
            replies.append(HiredisContext.decode(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
    }
}

extension timeval {
    init(seconds: Double) {
        let whole = seconds.rounded(.down)
        self.init(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
    }
}
