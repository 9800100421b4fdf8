import Dispatch
import FoundationEssentials
import Glibc

/// One read shared by every caller waiting for it, and never older than the call.
///
/// Many concurrent callers of the same expensive, parameterless read (the gateway's account list
/// under 50 connections: a PostgreSQL query and a JSON body per request) wait for one read
/// instead of each running their own. Freshness is kept: a caller is served only by a read that
/// *started after it called* — a caller arriving while a read is running waits for the next one,
/// which starts as soon as the running one ends and serves everyone who arrived meanwhile. So
/// every answer reflects the data as of some moment after the request arrived, exactly as a
/// private read would, at a fraction of the reads.
///
/// Each round (one read and the callers it serves) has its own condition variable: a finished
/// read wakes only its own callers, and one caller of the next round to run it. (With one
/// condition for everything, each read woke every waiting thread, half of them only to find
/// they needed the next read and sleep again — most of the gateway's context switches under 50
/// connections.)
///
/// An error thrown by a read is that read's result: every caller it serves gets the error, and
/// the next call starts a new read.
public final class FreshRead<Value: Sendable>: @unchecked Sendable {
    /// One read and its callers. Guarded by the owner's mutex.
    private final class Round {
        var result: Result<Value, any Error>?
        let finished: UnsafeMutablePointer<pthread_cond_t>

        init() {
            finished = .allocate(capacity: 1)
            finished.initialize(to: pthread_cond_t())
            pthread_cond_init(finished, nil)
        }

        deinit {
            pthread_cond_destroy(finished)
            finished.deinitialize(count: 1)
            finished.deallocate()
        }
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// The read in progress (it started before anyone arriving now called).
    private var running: Round?
    /// The read that starts when `running` ends: callers arriving meanwhile wait for it.
    private var next: Round?
    private var readCount = 0

    /// Reads run so far (for metrics and tests).
    public var reads: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return readCount
    }

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// The value of a read that started after this call: runs `read` on this thread when no read
    /// is running, otherwise waits for the next read (run by one of its callers).
    public func get(_ read: () throws -> Value) throws -> Value {
        pthread_mutex_lock(mutex)
        guard running != nil else {
            // Nothing running: a read starts now, on this thread — the pending round if there is
            // one (its callers were woken to run it but none has yet), else a new one.
            let round = next ?? Round()
            next = nil
            return try run(round, read)
        }
        let round: Round
        if let next { round = next } else {
            round = Round()
            next = round
        }
        while round.result == nil {
            // The running read ended and nobody started this one yet: this caller runs it.
            if running == nil, next === round {
                next = nil
                return try run(round, read)
            }
            pthread_cond_wait(round.finished, mutex)
        }
        let result = round.result!
        pthread_mutex_unlock(mutex)
        return try result.get()
    }

    /// Runs `round`'s read on this thread. Called with the mutex held; returns with it released.
    private func run(_ round: Round, _ read: () throws -> Value) throws -> Value {
        running = round
        readCount += 1
        pthread_mutex_unlock(mutex)
        let result = Result { try read() }
        pthread_mutex_lock(mutex)
        round.result = result
        running = nil
        pthread_cond_broadcast(round.finished)
        // One caller of the next round wakes to run it; the others sleep until it is done.
        if let next { pthread_cond_signal(next.finished) }
        pthread_mutex_unlock(mutex)
        return try result.get()
    }
}
