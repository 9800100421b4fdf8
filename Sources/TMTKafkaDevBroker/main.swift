// tmt-kafka-dev-broker: librdkafka's built-in mock cluster as a standalone process, for native
// runs and tests on machines without a Kafka broker. Memory-only and for development only.
import CRdKafka
import Foundation
import TMTBase
import TMTModels

let usage = """
Usage: tmt-kafka-dev-broker [--bootstrap-file PATH] [--market-bootstrap-file PATH] [--brokers N] [--topic NAME:PARTITIONS]...

Runs librdkafka's mock Kafka cluster (real Kafka protocol over TCP on 127.0.0.1: produce,
fetch, consumer groups, offset commits, idempotent producers) and pre-creates the pipeline's
topics (\(Topic.allCases.count) of them, e.g. market.ticks with \(Topic.marketTicks.partitions) partitions).
Other topics are created on first use.

THIS IS NOT A REAL KAFKA BROKER. It is memory-only (everything is lost when it stops), it
keeps only about 5 MiB or 100,000 batches per partition and silently drops older data, and
librdkafka 2.0.2 binds it to a random port. It is for development and tests; Docker
deployments use Apache Kafka. Like a Kafka broker, it turns Nagle's algorithm off on every
connection (TCP_NODELAY, applied within 20 ms of the connection).

  --bootstrap-file PATH   write the bootstrap address (host:port,...) to PATH once ready
                          (written atomically; removed on exit). Always printed on stdout too.
  --market-bootstrap-file PATH
                          also run a second mock cluster for market data (market.ticks only) and
                          write its bootstrap address to PATH: agents given it as
                          KAFKA_MARKET_BOOTSTRAP_FILE read ticks there. A mock cluster serves all
                          its clients from one thread and scans a partition's retained batches on
                          every fetch that returns data; with ticks on their own cluster (own
                          thread) they no longer hold up the order path's hops.
  --brokers N             number of mock brokers (default 1)
  --topic NAME:PARTS      create another topic (repeatable)
  --list-topics           print the pipeline's topics as "NAME PARTITIONS" lines and exit (the
                          compose deployment's deployment/staging/kafka/topics.txt is this list)
  --help                  this text

Stops cleanly on SIGTERM or SIGINT.
"""

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tmt-kafka-dev-broker: \(message)\n".utf8))
    exit(2)
}

var bootstrapFile: String?
var marketBootstrapFile: String?
var brokers = 1
var extraTopics: [(String, Int)] = []
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--help", "-h":
        print(usage)
        exit(0)
    case "--list-topics":
        for topic in Topic.allCases { print("\(topic.name) \(topic.partitions)") }
        exit(0)
    case "--bootstrap-file":
        guard let v = args.popFirst() else { fail("--bootstrap-file needs a path") }
        bootstrapFile = v
    case "--market-bootstrap-file":
        guard let v = args.popFirst() else { fail("--market-bootstrap-file needs a path") }
        marketBootstrapFile = v
    case "--brokers":
        guard let v = args.popFirst(), let n = Int(v), (1...9).contains(n) else { fail("--brokers needs a number 1-9") }
        brokers = n
    case "--topic":
        guard let v = args.popFirst() else { fail("--topic needs NAME:PARTITIONS") }
        let parts = v.split(separator: ":")
        guard parts.count == 2, let p = Int(parts[1]), p > 0, !parts[0].isEmpty else { fail("--topic needs NAME:PARTITIONS, got '\(v)'") }
        extraTopics.append((String(parts[0]), p))
    default:
        fail("unknown argument '\(arg)' (see --help)")
    }
}

let log = Logger(service: "kafka-dev-broker")
signal(SIGPIPE, SIG_IGN)
// Block the stop signals before librdkafka starts its threads, so they inherit the mask and the
// main thread receives the signals through sigwait.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
sigaddset(&stopSignals, SIGHUP)
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

/// A librdkafka host instance carrying one mock cluster with `topics` created.
func makeCluster(_ topics: [(String, Int)], brokers: Int) -> (OpaquePointer, OpaquePointer) {
    var errbuf = [CChar](repeating: 0, count: 512)
    let conf = rd_kafka_conf_new()
    // The host instance has no bootstrap servers of its own; keep its notice about that out of the log.
    _ = rd_kafka_conf_set(conf, "log_level", "4", &errbuf, errbuf.count)
    // The host instance only carries the mock cluster; it never produces.
    guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errbuf, errbuf.count) else {
        rd_kafka_conf_destroy(conf)
        fail("cannot create the librdkafka instance: \(String(cBuffer: errbuf))")
    }
    guard let cluster = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
        fail("cannot create the mock cluster")
    }
    for (name, partitions) in topics {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), 1)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { fail("cannot create topic \(name): \(String(cString: rd_kafka_err2str(err)))") }
    }
    return (rk, cluster)
}

/// Writes `bootstrap` to `path` atomically.
func writeBootstrap(_ bootstrap: String, to path: String) {
    let tmp = path + ".tmp"
    do {
        try Data((bootstrap + "\n").utf8).write(to: URL(fileURLWithPath: tmp))
        if rename(tmp, path) != 0 { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
    } catch {
        fail("cannot write \(tmp): \(error)")
    }
}

let (rk, cluster) = makeCluster(Topic.allCases.map { ($0.name, $0.partitions) } + extraTopics, brokers: brokers)
let bootstrap = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
// The market-data cluster, when asked for: market.ticks alone, on its own mock thread.
let market = marketBootstrapFile.map { _ in makeCluster([(Topic.marketTicks.name, Topic.marketTicks.partitions)], brokers: brokers) }
let marketBootstrap = market.map { String(cString: rd_kafka_mock_cluster_bootstraps($0.1)) }

// The market file first: whoever waits for the main file then finds both.
if let path = marketBootstrapFile, let marketBootstrap { writeBootstrap(marketBootstrap, to: path) }
if let path = bootstrapFile { writeBootstrap(bootstrap, to: path) }
FileHandle.standardOutput.write(Data((bootstrap + "\n").utf8))
log.info("mock cluster ready", ["bootstrap": bootstrap, "brokers": String(brokers), "topics": String(Topic.allCases.count + extraTopics.count),
                                "market_bootstrap": marketBootstrap ?? "-"])

// Kafka brokers set TCP_NODELAY on every connection; the mock cluster does not, and its
// connections are its own. Apply it to every TCP socket of this process as they appear (see
// TCPNoDelay): without it an idempotent producer's per-partition acknowledgements in a burst
// waited ~40 ms for a delayed ACK.
Thread.detachNewThread {
    var seen = Set<UInt64>()
    while true {
        TCPNoDelay.applyToOpenSockets(seen: &seen)
        usleep(20_000)
    }
}

var received: Int32 = 0
sigwait(&stopSignals, &received)
log.info("stopping", ["signal": String(received)])
rd_kafka_mock_cluster_destroy(cluster)
rd_kafka_destroy(rk)
if let market {
    rd_kafka_mock_cluster_destroy(market.1)
    rd_kafka_destroy(market.0)
}
if let path = bootstrapFile { unlink(path) }
if let path = marketBootstrapFile { unlink(path) }
log.info("stopped")
exit(0)
