import XCTest
import Glibc
@testable import TMTRedis

final class RedisSigpipeGuardTests: XCTestCase {
    /// hiredis writes with write(2); a write to a socket the server closed raises SIGPIPE, which
    /// would kill a process that does not ignore it. Inside the guard it is swallowed.
    func testSigpipeRaisedInsideTheGuardIsDiscarded() {
        let result = SigpipeGuard.run { raise(SIGPIPE) }
        XCTAssertEqual(result, 0)
        var pending = sigset_t()
        sigpending(&pending)
        XCTAssertEqual(sigismember(&pending, SIGPIPE), 0, "no SIGPIPE left pending")
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        XCTAssertEqual(sigismember(&mask, SIGPIPE), 0, "the thread's signal mask is restored")
    }
}
