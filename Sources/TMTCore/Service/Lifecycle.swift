import Dispatch
import TMTBase
import Synchronization

/// The write end of the signal pipe; read by the C signal handler, so a plain global. Set before
/// the handler is installed and never changed while it can run (hence nonisolated(unsafe)).
nonisolated(unsafe) private var lifecycleSignalWriteFD: Int32 = -1

/// Process lifecycle: SIGPIPE ignored, SIGTERM/SIGINT turned into one orderly shutdown.
///
/// Components register shutdown steps as they start; on the first stop signal the steps run
/// once, in the reverse order of registration (stop consuming before closing the producer before
/// closing the databases), each bounded by its own timeout so one stuck step cannot hang the
/// process forever. A second signal during shutdown exits at once.
public final class Lifecycle: Sendable {
    /// One step of the shutdown sequence.
    public struct Step: Sendable {
        public var name: String
        public var timeout: Double
        public var run: @Sendable () -> Void
    }

    private struct State {
        var steps: [Step] = []
        var stopping = false
        var done = false
    }

    private let state = Locked(State())
    private let finished = DispatchSemaphore(value: 0)
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Ignores SIGPIPE (writes to closed sockets return EPIPE instead of killing the process) and
    /// routes SIGTERM and SIGINT to `shutdown`. Call first thing in `main`.
    ///
    /// The handler only writes the signal number to a pipe (async-signal-safe); a dedicated thread
    /// reads it and starts the shutdown. Unlike a Dispatch signal source this works whichever
    /// thread the kernel picks to take the signal, including threads started before this call.
    /// The most recent lifecycle to install handlers receives the signals.
    public func installSignalHandlers() {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            logger.critical("cannot create the signal pipe; SIGTERM will not shut down gracefully", ["errno": String(errno)])
            return
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        lifecycleSignalWriteFD = fds[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in
            var byte = UInt8(truncatingIfNeeded: sig)
            _ = write(lifecycleSignalWriteFD, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        let readFD = fds[0]
        TMTThread.detach { [self] in
            var byte: UInt8 = 0
            while true {
                let n = read(readFD, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                let sig = Int32(byte)
                if isStopping {
                    logger.warning("second stop signal; exiting now", ["signal": String(sig)])
                    exit(1)
                }
                logger.notice("stop signal received; shutting down", ["signal": sig == SIGTERM ? "SIGTERM" : "SIGINT"])
                TMTThread.detach { self.shutdown() }
            }
        }
    }

    /// Adds a shutdown step; steps run in reverse order of registration.
    public func onShutdown(_ name: String, timeout: Double = 10, _ run: @escaping @Sendable () -> Void) {
        state.withLock { $0.steps.append(Step(name: name, timeout: timeout, run: run)) }
    }

    /// Whether shutdown has begun; long-running loops poll this.
    public var isStopping: Bool { state.withLock { $0.stopping } }

    /// Runs the shutdown steps once; later calls wait for the first to finish.
    public func shutdown() {
        let steps: [Step]? = state.withLock { s in
            if s.stopping { return nil }
            s.stopping = true
            return s.steps.reversed()
        }
        guard let steps else {
            finished.wait()
            finished.signal()
            return
        }
        for step in steps {
            let start = Monotonic.nanos()
            let done = DispatchSemaphore(value: 0)
            TMTThread.detach {
                step.run()
                done.signal()
            }
            if done.wait(timeout: .now() + step.timeout) == .timedOut {
                logger.error("shutdown step timed out; continuing", ["step": step.name, "timeout_s": String(step.timeout)])
            } else {
                logger.info("shutdown step done", ["step": step.name, "ms": String(cFormat: "%.1f", Monotonic.secondsSince(start) * 1000)])
            }
        }
        state.withLock { $0.done = true }
        logger.notice("shutdown complete")
        finished.signal()
    }

    /// Blocks the calling thread (normally `main`) until shutdown has completed.
    public func wait() {
        finished.wait()
        finished.signal()
    }
}
