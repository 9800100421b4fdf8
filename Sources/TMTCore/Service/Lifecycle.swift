import Dispatch
import Foundation
import Synchronization

/// Process lifecycle: SIGPIPE ignored, SIGTERM/SIGINT turned into one orderly shutdown.
///
/// Components register shutdown steps as they start; on the first stop signal the steps run
/// once, in the reverse order of registration (stop consuming before closing the producer before
/// closing the databases), each bounded by its own timeout so one stuck step cannot hang the
/// process forever. A second signal during shutdown exits at once.
public final class Lifecycle: @unchecked Sendable {
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

    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)
    private let logger: Logger
    /// Kept alive for the life of the process; written only by `installSignalHandlers`, which
    /// `main` calls once before any other thread uses the lifecycle (hence @unchecked Sendable).
    private var sources: [any DispatchSourceSignal] = []

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Ignores SIGPIPE (writes to closed sockets return EPIPE instead of killing the process) and
    /// routes SIGTERM and SIGINT to `shutdown`. Call first thing in `main`.
    public func installSignalHandlers() {
        signal(SIGPIPE, SIG_IGN)
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                let already = state.withLock { $0.stopping }
                if already {
                    logger.warning("second stop signal; exiting now", ["signal": String(sig)])
                    exit(1)
                }
                logger.notice("stop signal received; shutting down", ["signal": sig == SIGTERM ? "SIGTERM" : "SIGINT"])
                DispatchQueue.global().async { self.shutdown() }
            }
            source.resume()
            sources.append(source)
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
            Thread.detachNewThread {
                step.run()
                done.signal()
            }
            if done.wait(timeout: .now() + step.timeout) == .timedOut {
                logger.error("shutdown step timed out; continuing", ["step": step.name, "timeout_s": String(step.timeout)])
            } else {
                logger.info("shutdown step done", ["step": step.name, "ms": String(format: "%.1f", Monotonic.secondsSince(start) * 1000)])
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
