// tmt-performance-validator: drives a fixed, seeded load through a deployed stack and checks the SLAs.
import Foundation
import TMTCore
import TMTStagingTools

let usage = """
Usage: tmt-performance-validator [--rate TICKS_PER_SECOND] [--duration SECONDS] [--json FILE] [options]

Drives a fixed, seeded load through a running staging stack and measures it from the outside:
seeded simulated ticks (six scripted Wyckoff scenarios, two market minutes apart, continuing
from the stack's newest prices) at --rate, plus synthetic signals at
--signals-per-second (one account each, round robin), every message stamped with the
validator's hop; a steady trickle of gateway reads. Afterwards it waits for the orders to settle
and measures from the orders' hops in the trading database and from every service's /metrics:

  tick→fill        validator sent the tick … execution booked the fill (Wyckoff's signals)
  tick→decision    the same tick … the order's last decision before the paper market (below):
                   Wyckoff's six hops to the breaker's clearance, whatever the verdict
  signal→decision  the signal sent (by Wyckoff or the validator) … the order's last decision
                   before the paper market: the breaker clearing it for execution, or the verdict
                   of whichever agent ended it earlier (rejected, skipped, blocked)
  signal→fill      the signal sent … the fill booked; beyond the decision this includes the fill
                   model's simulated market latency (median 40 ms of market time) and the wait
                   for the next tick
  per agent        each agent's time inside (hop in → out), p50/p99
  hop into         each hop between agents, the previous agent's out stamp → this agent's in stamp:
                   what the previous agent does after stamping (storing the order, producing), the
                   broker and the consumer's fetch
  gateway reads    GET /health, /api/v1/accounts, /api/v1/orders, /api/v1/positions as a client sees them
  database         tmt_db_query_duration_seconds of every service over the run (average, p99 estimate)
  resources        every service's resident memory at the end, CPU over the run (process_* metrics)

Before the load (with TMT_API_TOKEN) it restarts the accounts as fresh challenges (POST
/api/v1/accounts/restart: initial balance, no positions, no working orders) and starts a new
staging day (POST /api/v1/day/reset): the run's hundreds of orders in a fast market would
otherwise meet what earlier runs left (a challenge failed on its maximum loss, tripped drawdown
breakers, daily limits used up), and two runs would not be comparable. It also resets every
instrument breaker that is not normal (tripped by a price gap an earlier tool's ticks left or by
an operator, half-open, or in warning: new orders on the instrument would be blocked), naming each
with its reason; --keep-breakers leaves them.
Orders that anti-correlation staggered (a deliberate delay of seconds) and the orders of the
first --warmup seconds are counted but left out of the latency figures. The stack's human-behavior must run with HUMAN_DELAY_SCALE=0, or the
validator refuses (its /metrics tmt_human_delay_scale).

SLAs (the seed's): gateway read p95 < 100 ms, signal processing (signal→decision) p95 < 50 ms,
database average < 10 ms,
all services < 8 GB resident, CPU < 70 % of the machine. Also checked: every order of the run
settled, and at least one was filled, so the fill latencies measure something; the orders the circuit breaker blocked are listed by what blocked them (instrument,
account, system, agents) with the breaker's reason, and so are the breakers not normal once the run
settled (an account its losses tripped, say: what the next run meets).

Options:
  --rate N                 ticks per second (default 1000)
  --duration S             seconds of load (default 30)
  --signals-per-second N   synthetic signals per second (default 5; 0: Wyckoff's only)
  --scenario-minutes M     scale of the scripted Wyckoff scenarios (default 30: a 30-minute range,
                           a 5-minute spring or upthrust, 7.5 more minutes of range, 30 minutes of
                           markup or markdown; the detector's one-minute bars need about this many
                           to see a range). The six scripts start two market minutes apart.
  --market-speed X         simulated seconds per real second (default: the scripts, M × 145 s
                           plus 10 minutes of stagger, fit into the measured part of the run,
                           but never so fast that an instrument
                           gets fewer than 15 ticks per one-minute bar, nor slower than the
                           generator's natural 4 ticks per second per instrument at --rate)
  --drain S                longest wait for the run's orders to settle afterwards (default 30)
  --warmup S               leave the orders of the first S seconds out of the latencies (default 5)
  --market-time WHEN       now, weekday (default) or an ISO 8601 instant (see tmt-integration-tester)
  --seed N                 seed of the simulated market (default 42)
  --accounts A,B,…         the accounts the synthetic signals go to (default every account; the
                           restart and new staging day the run starts with are for these)
  --json FILE              write the figures as JSON
  --report-dir DIR         write DIR/performance-report.xml (JUnit, one case per SLA) and .json
  --signal-accounts one|all  one (default): each synthetic signal names one account, round robin;
                           all: each names every account, so a signal makes one order per account
                           (as Wyckoff's do): how the pipeline scales with the number of accounts
  --keep-accounts          do not restart the accounts (only the new day): measure the stack as
                           earlier runs left it
  --keep-breakers          do not reset the instrument breakers that are not normal (orders on
                           them are blocked and listed as such)
  --flatten                keep the accounts (as --keep-accounts) but first close the accounts' open positions at the market (POST
                           /api/v1/breaker/flatten per account holding any, then reset its
                           breaker): earlier runs' positions swing with the run's fast market and
                           can trip the drawdown limits. Closing every account at once makes their
                           equity move together, which anti-correlation then holds against them
                           for five minutes.
  --no-sla                 report only: exit 0 whatever the figures
  --help                   this text

Environment: as tmt-integration-tester (TMT_API_URL, AGENT_URLS, DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS
or KAFKA_BOOTSTRAP_FILE); CPU_CORES overrides the core count the CPU figure is divided by.

Exit status: 0 every check passed (or --no-sla, which reports without a verdict), 1 an SLA
breached, an order left unsettled, or no order filled; 2 bad arguments or a stack not set up for a
performance run, 3 the stack could not be reached.
"""

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
let options: ValidatorOptions
let endpoints: StackEndpoints
do {
    options = try ValidatorOptions(arguments)
    endpoints = try StackEndpoints()
} catch {
    FileHandle.standardError.write(Data("tmt-performance-validator: \(error)\n(see --help)\n".utf8))
    exit(ToolExit.usage)
}
let logger = Logger(service: "performance-validator", level: LogLevel(name: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "warning") ?? .warning)

do {
    let validator = try Validator(options: options, endpoints: endpoints, logger: logger)
    let result = try validator.run()
    exit(result)
} catch let e as ValidatorRefusal {
    FileHandle.standardError.write(Data("tmt-performance-validator: \(e.description)\n".utf8))
    exit(ToolExit.usage)
} catch {
    FileHandle.standardError.write(Data("tmt-performance-validator: \(error)\n".utf8))
    exit(ToolExit.unavailable)
}
