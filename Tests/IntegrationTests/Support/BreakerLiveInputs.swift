import Foundation
import Synchronization
import TMTCore
import TMTTrading

/// What a circuit breaker under test needs to let trading be ACTIVE, published every half second
/// until stopped: a heartbeat of every critical agent, a EUR_USD tick, and `accounts` as given.
final class BreakerLiveInputs: Sendable {
    private let stopped = Atomic<Bool>(false)

    init(producer: KafkaProducer, accounts: [Account]) {
        Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                let t = HopClock.nowMicros()
                for name in BreakerConfiguration.pipelineAgents.sorted() {
                    let hb = AgentHeartbeat(service: name, instanceId: "\(name)-test", version: "test", status: "healthy", startedAt: t,
                                            uptimeSeconds: 1, failingChecks: [], sentAt: t)
                    _ = try? producer.send(Envelope(id: "\(name)-\(t)", type: "agent.heartbeat", traceId: "hb", source: name, payload: hb),
                                           to: .agentsHealth, key: name)
                }
                let tick = Tick(instrument: "EUR_USD", bid: Decimal(string: "1.08500")!, ask: Decimal(string: "1.08508")!, volume: 100_000, time: t)
                _ = try? producer.send(Envelope(id: "EUR_USD-\(t)", type: "market.tick", traceId: "t", source: "test", payload: tick),
                                       to: .marketTicks, key: "EUR_USD")
                for a in accounts {
                    _ = try? producer.send(Envelope(id: "\(a.id)-\(t)", type: "account.update", traceId: "a", source: "test", payload: a),
                                           to: .accountsUpdates, key: a.id)
                }
                usleep(500_000)
            }
        }.start()
    }

    /// Stops publishing (the thread holds this object until then: call it, e.g. in a `defer`).
    func stop() { stopped.store(true, ordering: .relaxed) }
}
