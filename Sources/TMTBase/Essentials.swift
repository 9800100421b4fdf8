// The services build on FoundationEssentials (Data, Date, Decimal, JSON coding, URL, UUID,
// FileManager, ProcessInfo), Dispatch and the C library, not on the full Foundation: loading
// Foundation — and the ICU library it links — made every service ~7 MB bigger in resident memory
// for APIs they hardly used. Every module that imports TMTBase sees these three. What the
// services used from Foundation alone is here: threads, formatted numbers, whitespace trimming,
// percent-encoding and standard error (decimal rounding and conversion: `DecimalMath`).
@_exported import Dispatch
@_exported import FoundationEssentials
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#endif

/// Detached threads on pthreads (Foundation's `Thread` is not in FoundationEssentials).
public enum TMTThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread named `name` (the first 15 bytes: the kernel's limit),
    /// with a stack of `stackSize` bytes (nil: the system default, 8 MiB virtual). False when
    /// the system refused a thread (`EAGAIN`: a pids or memory limit): `body` then never runs,
    /// and the caller decides (the HTTP server closes the connection it was for).
    @discardableResult
    public static func detach(name: String? = nil, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) -> Bool {
        let run: () -> Void
        if let name {
            let short = String(decoding: name.utf8.prefix(15), as: UTF8.self)
            run = {
                if let setName = TMTThread.setName { _ = short.withCString { setName(pthread_self(), $0) } }
                body()
            }
        } else {
            run = body
        }
        let box = Unmanaged.passRetained(Box(run)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        if let stackSize, stackSize > 0 {
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            _ = pthread_attr_setstacksize(&attributes, max(Int(PTHREAD_STACK_MIN), (stackSize + page - 1) / page * page))
        }
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            return false
        }
        return true
    }

    private typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    /// glibc's `pthread_setname_np` (declared only under _GNU_SOURCE, so looked up by name).
    private static let setName: SetName? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np")
        .map { unsafeBitCast($0, to: SetName.self) }

    private typealias GetTID = @convention(c) () -> pid_t
    /// glibc's `gettid` (declared only under _GNU_SOURCE, so looked up by name).
    private static let getTID: GetTID? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gettid")
        .map { unsafeBitCast($0, to: GetTID.self) }

    /// Sets the calling thread's nice value (Linux schedules threads one by one: the rest of the
    /// process keeps its priority). False, with `errno` set, when it could not.
    @discardableResult
    public static func setNiceness(_ nice: Int32) -> Bool {
        guard let getTID else { return false }
        return setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getTID()), nice) == 0
    }

    /// Sleeps the calling thread for `seconds` (≤ 0: returns at once).
    public static func sleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds.rounded(.down)), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }

    /// An identifier of the calling thread, unique among running threads.
    public static var currentID: UInt { UInt(pthread_self()) }
}

extension String {
    private static func text(_ chars: [CChar], count: Int) -> String {
        String(decoding: chars.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `printf`-style formatting of numbers and C strings (`%d`, `%5.1f`, `%.3g`, `%04d`, `%s`
    /// with a `StaticString`-free C string); Foundation's `String(format:)` for the formats the
    /// services use. `%@` is not supported.
    public init(cFormat format: String, _ arguments: CVarArg...) {
        self = withVaList(arguments) { list in
            var buffer = [CChar](repeating: 0, count: 128)
            // vsnprintf consumes the va_list: a second pass gets a fresh one.
            let needed = Int(vsnprintf(&buffer, buffer.count, format, list))
            guard needed >= 0 else { return "" }
            if needed < buffer.count { return Self.text(buffer, count: needed) }
            return withVaList(arguments) { again in
                var large = [CChar](repeating: 0, count: needed + 1)
                _ = vsnprintf(&large, large.count, format, again)
                return Self.text(large, count: needed)
            }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace (spaces, tabs, newlines).
    public func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }

    /// Without leading and trailing characters from `set`.
    public func trimming(charactersIn set: String) -> String {
        guard let first = firstIndex(where: { !set.contains($0) }) else { return "" }
        let last = lastIndex(where: { !set.contains($0) })!
        return String(self[first...last])
    }

    /// Percent-encoded UTF-8, keeping ASCII letters, digits and the characters in `unreserved`.
    public func percentEncoded(keeping unreserved: String = "-._~") -> String {
        var out = ""
        for byte in utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || unreserved.contains(c) {
                out.append(c)
            } else {
                out += "%" + String(cFormat: "%02X", UInt32(byte))
            }
        }
        return out
    }
}

/// Writes to standard error directly (unbuffered), for start-up failures before logging exists.
public enum StandardError {
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { writeToDescriptor(2, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}

private func writeToDescriptor(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
