import Dispatch
import FoundationEssentials
import Glibc

/// Runs a body on a thread of its own every `interval` seconds until `stop()`, which wakes the
/// loop from its wait and waits (up to 5 s) for the run in progress to finish.
public final class PeriodicTask: Sendable {
    public let interval: Double
    private let running = Locked(false)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)

    public init(interval: Double) {
        self.interval = interval
    }

    /// Runs `body` now (or, with `immediately: false`, first after one interval: the caller has
    /// just run it itself) and then every `interval` seconds; a second `start` while running is
    /// ignored.
    public func start(immediately: Bool = true, _ body: @escaping @Sendable () -> Void) {
        let alreadyRunning = running.withLock { r -> Bool in
            defer { r = true }
            return r
        }
        guard !alreadyRunning else { return }
        TMTThread.detach { [self] in
            if !immediately { _ = wake.wait(timeout: .now() + interval) }
            while running.withLock({ $0 }) {
                body()
                // A stop signals `wake`: the loop ends at once instead of after the interval.
                _ = wake.wait(timeout: .now() + interval)
            }
            done.signal()
        }
    }

    /// Stops the loop and waits up to 5 s for its thread to finish; false when a run was still
    /// going at the deadline.
    @discardableResult
    public func stop() -> Bool {
        let wasRunning = running.withLock { r -> Bool in
            defer { r = false }
            return r
        }
        guard wasRunning else { return true }
        wake.signal()
        return done.wait(timeout: .now() + 5) == .success
    }
}
