import TMTBase

/// Hands the heap memory the process has freed back to the kernel, every `interval` seconds.
///
/// glibc's allocator keeps freed memory in its arenas for reuse and returns only the top of the
/// main heap by itself. A service that follows a burst (90,000 ticks in a second) allocates tens
/// of megabytes of messages and decoded values, frees them, and stays that much bigger: the three
/// tick consumers sat at ~60 MB resident after two bursts, ~46–49 MB once `malloc_trim(0)` ran.
/// The trim walks the arenas' free chunks and gives back whole free pages (`madvise`), so it
/// costs a little CPU and holds each arena's lock while it walks it; once every few seconds on
/// a heap of tens of megabytes that is well under a millisecond
/// (`tmt_process_memory_trim_seconds`).
///
/// `malloc_trim` is looked up at run time: a C library without it (musl) leaves the trimmer off.
public final class MemoryTrimmer: Sendable {
    private typealias TrimFunction = @convention(c) (Int) -> Int32
    private static let trimFunction: TrimFunction? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: TrimFunction.self)
    }()

    /// Whether this C library can trim at all.
    public static var isAvailable: Bool { trimFunction != nil }

    private let task: PeriodicTask
    private let trims: Counter
    private let released: Counter
    private let duration: Histogram

    public init(interval: Double, metrics: MetricsRegistry) {
        task = PeriodicTask(interval: interval)
        trims = metrics.counter("tmt_process_memory_trims_total", help: "Times freed heap memory was handed back to the kernel (malloc_trim).").labels()
        released = metrics.counter("tmt_process_memory_trimmed_bytes_total",
                                   help: "Resident bytes the trims gave back (resident size before minus after each trim).").labels()
        duration = metrics.histogram("tmt_process_memory_trim_seconds", help: "Time one malloc_trim took.",
                                     buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05]).labels()
    }

    /// Starts trimming now and then every `interval` seconds; false when the C library has no
    /// `malloc_trim`.
    @discardableResult
    public func start() -> Bool {
        guard Self.isAvailable else { return false }
        task.start { [self] in _ = trimNow() }
        return true
    }

    /// Trims once now; the resident bytes given back (0 when nothing could be, nil without
    /// `malloc_trim`).
    @discardableResult
    public func trimNow() -> Double? {
        guard let trim = Self.trimFunction else { return nil }
        let before = Self.residentBytes()
        let t0 = Monotonic.nanos()
        _ = trim(0)
        duration.observe(Double(Monotonic.nanos() - t0) / 1e9)
        let after = Self.residentBytes()
        trims.inc()
        let freed = max(0, (before ?? 0) - (after ?? 0))
        if freed > 0 { released.inc(freed) }
        return freed
    }

    /// Stops the trimming thread.
    public func stop() { task.stop() }

    /// Resident bytes from /proc/self/statm (one short read), nil without /proc.
    static func residentBytes() -> Double? {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        // "size resident shared …" in pages.
        let fields = buffer[..<n].split(separator: UInt8(ascii: " "))
        guard fields.count >= 2, let pages = Double(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }
}
