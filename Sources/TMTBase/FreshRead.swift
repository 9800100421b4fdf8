import Foundation

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
/// An error thrown by a read is that read's result: every caller it serves gets the error, and
/// the next call starts a new read.
public final class FreshRead<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Reads started so far; read number n is the n-th.
    private var started = 0
    private var running = false
    /// The newest finished read: its number and result.
    private var last: (number: Int, result: Result<Value, any Error>)?
    private var readCount = 0
    /// Reads run so far (for metrics and tests).
    public var reads: Int {
        condition.lock()
        defer { condition.unlock() }
        return readCount
    }

    public init() {}

    /// The value of a read that started after this call: runs `read` on this thread when no read
    /// is running, otherwise waits for the next read (run by whichever waiting caller gets there
    /// first).
    public func get(_ read: () throws -> Value) throws -> Value {
        condition.lock()
        // Any read numbered `started + 1` or later starts after now.
        let needed = started + 1
        while true {
            if let last, last.number >= needed {
                condition.unlock()
                return try last.result.get()
            }
            if running {
                condition.wait()
                continue
            }
            running = true
            started += 1
            readCount += 1
            let number = started
            condition.unlock()
            let result = Result { try read() }
            condition.lock()
            last = (number, result)
            running = false
            condition.broadcast()
        }
    }
}
