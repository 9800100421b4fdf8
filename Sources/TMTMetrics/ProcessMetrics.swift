import TMTBase

/// The standard process gauges (`process_resident_memory_bytes`, `process_cpu_seconds_total`,
/// `process_open_fds`, `process_start_time_seconds`, `process_virtual_memory_bytes`), read from
/// /proc on every scrape; `tmt_process_proportional_memory_bytes` at most once a second.
public enum ProcessMetrics {
    /// Registers the process families on `registry` and a collector that refreshes them.
    public static func register(on registry: MetricsRegistry) {
        let rss = registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.").labels()
        let vsz = registry.gauge("process_virtual_memory_bytes", help: "Virtual memory size in bytes.").labels()
        let cpu = registry.counter("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.").labels()
        let fds = registry.gauge("process_open_fds", help: "Number of open file descriptors.").labels()
        let start = registry.gauge("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.").labels()
        let threads = registry.gauge("process_threads", help: "Number of OS threads in the process.").labels()
        let pss = registry.gauge("tmt_process_proportional_memory_bytes",
                                 help: "Proportional set size (PSS): resident memory with each shared page divided among the processes mapping it; the services' sum is the memory they occupy together.").labels()
        if let s = read() { start.set(s.startTime) }
        // smaps_rollup makes the kernel walk every mapping: at most one read a second, however
        // often /metrics is scraped (a load tester following a service scrapes it several times
        // a second; that read was 4 % of Wyckoff's CPU under a burst).
        let pssReadAt = Locked<UInt64?>(nil)
        registry.addCollector {
            guard let s = read() else { return }
            rss.set(s.residentBytes)
            vsz.set(s.virtualBytes)
            cpu.advance(to: s.cpuSeconds)
            fds.set(s.openFDs)
            threads.set(s.threads)
            let due = pssReadAt.withLock { last -> Bool in
                let now = Monotonic.nanos()
                if let last, now &- last < Self.proportionalReadInterval { return false }
                last = now
                return true
            }
            if due, let p = proportionalBytes() { pss.set(p) }
        }
    }

    /// Least time between two reads of the proportional set size, in nanoseconds.
    static let proportionalReadInterval: UInt64 = 1_000_000_000

    /// This process's proportional set size from /proc/self/smaps_rollup (Linux ≥ 4.14), nil
    /// where it is absent. Resident size counts every shared page in full: the nine services
    /// each map the same Swift runtime and C libraries (about 25 MB), so their resident
    /// sizes add up to several times the memory they occupy.
    public static func proportionalBytes() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Pss:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kb = Double(parts[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }

    /// A reading of this process's resources.
    public struct Sample: Sendable {
        public var residentBytes: Double
        public var virtualBytes: Double
        public var cpuSeconds: Double
        public var openFDs: Double
        public var startTime: Double
        public var threads: Double
    }

    /// Reads /proc/self/stat, /proc/self/fd and /proc/stat; nil where /proc is absent.
    public static func read() -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "comm)": state is field 3; utime 14, stime 15, num_threads 20,
        // starttime 22, vsize 23, rss 24 (1-based over the whole line).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func f(_ n: Int) -> Double { let i = n - 3; return i < fields.count ? Double(fields[i]) ?? 0 : 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        let fdCount = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        var bootTime = 0.0
        if let s = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
           let line = s.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }) {
            bootTime = Double(line.split(separator: " ")[1]) ?? 0
        }
        return Sample(
            residentBytes: f(24) * page,
            virtualBytes: f(23),
            cpuSeconds: (f(14) + f(15)) / ticks,
            openFDs: Double(max(0, fdCount - 1)),
            startTime: bootTime + f(22) / ticks,
            threads: f(20)
        )
    }
}
