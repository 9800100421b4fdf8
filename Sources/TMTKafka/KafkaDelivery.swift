import Dispatch
import Synchronization
import TMTBase

/// The pending outcome of one `KafkaProducer.send`: completed by the producer's poll thread
/// when the broker acknowledges the record (or librdkafka gives up on it).
///
/// Use it when an effect must wait for durability, e.g. "produce the result, then commit the
/// input offset": `try producer.send(...).wait(timeout: 10)`. Discarding it is fine for
/// fire-and-forget records; failures are still counted and logged by the producer.
public final class KafkaDelivery: Sendable {
    private let state = Locked<Result<KafkaDeliveryReport, TMTError>?>(nil)
    private let done = DispatchGroup()

    init() {
        done.enter()
    }

    /// Called exactly once per record by the producer.
    func complete(_ result: Result<KafkaDeliveryReport, TMTError>) {
        let first = state.withLock { s -> Bool in
            guard s == nil else { return false }
            s = result
            return true
        }
        if first { done.leave() }
    }

    /// The outcome if already known, without waiting.
    public var result: Result<KafkaDeliveryReport, TMTError>? { state.withLock { $0 } }

    /// Blocks the calling thread until the record is delivered, at most `timeout` seconds.
    /// Throws the delivery error, or `TMTError(.timeout)` (the record may still be delivered
    /// later). Do not call it on Swift's cooperative pool; use `report()` there.
    @discardableResult
    public func wait(timeout: Double) throws -> KafkaDeliveryReport {
        if done.wait(timeout: .now() + max(0, timeout)) == .timedOut {
            throw TMTError(.timeout, "no delivery report within \(timeout) s")
        }
        return try outcome()
    }

    /// Suspends until the record is delivered; throws the delivery error.
    public func report() async throws -> KafkaDeliveryReport {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            done.notify(queue: .global()) { continuation.resume() }
        }
        return try outcome()
    }

    private func outcome() throws -> KafkaDeliveryReport {
        guard let r = state.withLock({ $0 }) else { throw TMTError(.timeout, "no delivery report yet") }
        return try r.get()
    }
}
