// POSIX signal interop for hiredis's socket writes.
import TMTBase

/// hiredis writes with `write(2)`, which raises SIGPIPE (killing the process by default) when the
/// server has closed the connection. Services ignore SIGPIPE at start-up; for processes that do
/// not (test runners, tools), this blocks SIGPIPE on the calling thread around a hiredis call and
/// discards one the call raised, as libpq does. The write still fails with EPIPE, which hiredis
/// reports as an I/O error.
enum SigpipeGuard {
    /// True when SIGPIPE's disposition is `SIG_IGN`, so no guard is needed.
    static func isIgnoredProcessWide() -> Bool {
        var action = sigaction()
        guard sigaction(SIGPIPE, nil, &action) == 0 else { return false }
        guard let handler = action.__sigaction_handler.sa_handler else { return false }
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    static func run<R>(_ body: () -> R) -> R {
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        var pending = sigset_t()
        sigpending(&pending)
        let alreadyPending = sigismember(&pending, SIGPIPE) == 1

        let result = body()

        if !alreadyPending {
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var zero = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeOnly, nil, &zero)
            }
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        return result
    }
}
