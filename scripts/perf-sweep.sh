#!/usr/bin/env bash
# The pipeline's latency as the tick rate grows, against the broker's own floor, in one run:
# for each rate, ../shared/tools/kafka_chain_floor.c (pass-through stages, no application work)
# on the stack's broker, then tmt-performance-validator at that rate. Prints a Markdown table.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
  cat <<USAGE
Usage: scripts/perf-sweep.sh [--rates "250 500 1000 2000"] [--duration S] [--signals-per-second N] [--out DIR]

Against a running native stack (scripts/stack.sh start --release with HUMAN_DELAY_SCALE=0, or
deploy-staging.sh), for each tick rate:
  1. the broker floor: kafka_chain_floor (../shared/tools/kafka_chain_floor.c, built with gcc into
     .build/kafka_chain_floor) with 6 pass-through stages = 7 hops, like tick → fill (tick,
     signal, proposed, approved, decorrelated, humanized, cleared), at that rate, with the agents'
     fetch.wait.max.ms (KAFKA_FETCH_WAIT_MAX_MS, default 1), on its own in-process mock cluster
     (the reference the issue measured) or, with FLOOR_ON_STACK_BROKER=1, on the stack's broker
     (sharing it with the stack's idle consumers);
  2. tmt-performance-validator --rate R --duration S --no-sla (JSON kept in --out).
Then a table: the floor's p50/p99; the pipeline's signal→decision, tick→decision and tick→fill
p50/p95/p99 (tick → …: Wyckoff's own signals; the validator's scripts produce them); the ratio of
tick→fill p99 to the floor's p99 (the issue's goal: ≤ 1.5× at 1000 ticks/s); Wyckoff's orders;
CPU; resident and proportional memory.

Options:
  --rates "R …"              tick rates (default "250 500 1000 2000")
  --duration S               seconds of validator load per rate (default 30)
  --signals-per-second N     synthetic signals per second (default 5)
  --out DIR                  where the validator's JSON goes (default .state/perf-sweep)
  --help                     this text

Environment: as tmt-performance-validator (eval "\$(scripts/stack.sh env)"; TMT_API_TOKEN_FILE for
the day reset). STACK_BUILD=debug uses the debug build (default release).
USAGE
}

rates="250 500 1000 2000" duration=30 sps=5 out=$repo/.state/perf-sweep
while [ $# -gt 0 ]; do
  case $1 in
    --rates) rates=$2; shift ;;
    --duration) duration=$2; shift ;;
    --signals-per-second) sps=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "perf-sweep: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bin=$repo/.build/${STACK_BUILD:-release}
[ -x "$bin/tmt-performance-validator" ] || { echo "perf-sweep: no $bin/tmt-performance-validator (swift build -c ${STACK_BUILD:-release})" >&2; exit 2; }
curl -fsS -o /dev/null --max-time 5 "${TMT_API_URL:-http://127.0.0.1:8000}/ready" || { echo "perf-sweep: no stack answers at ${TMT_API_URL:-http://127.0.0.1:8000}" >&2; exit 3; }
bootstrap=${KAFKA_BOOTSTRAP_SERVERS:-}
if [ -z "$bootstrap" ] && [ -n "${KAFKA_BOOTSTRAP_FILE:-}" ]; then bootstrap=$(cat "$KAFKA_BOOTSTRAP_FILE"); fi
[ -n "$bootstrap" ] || { echo "perf-sweep: KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_FILE must be set (eval \"\$(scripts/stack.sh env)\")" >&2; exit 2; }

floor_src=$repo/../shared/tools/kafka_chain_floor.c
floor=$repo/.build/kafka_chain_floor
if [ ! -x "$floor" ] || [ "$floor_src" -nt "$floor" ]; then
  [ -f "$floor_src" ] || { echo "perf-sweep: $floor_src not found" >&2; exit 2; }
  echo "perf-sweep: building $floor"
  gcc -O2 -o "$floor" "$floor_src" -lrdkafka -lpthread
fi
mkdir -p "$out"

rows=()
for rate in $rates; do
  count=$(( rate * 10 )); [ "$count" -gt 20000 ] && count=20000
  echo "perf-sweep: $rate/s — broker floor (7 hops, $count messages)"
  if [ "${FLOOR_ON_STACK_BROKER:-0}" = 1 ]; then
    floor_line=$(BOOTSTRAP=$bootstrap FWAIT=${KAFKA_FETCH_WAIT_MAX_MS:-1} timeout 300 "$floor" 6 "$rate" "$count" | tail -1)
  else
    floor_line=$(env -u BOOTSTRAP FWAIT="${KAFKA_FETCH_WAIT_MAX_MS:-1}" timeout 300 "$floor" 6 "$rate" "$count" | tail -1)
  fi
  echo "  $floor_line"
  echo "perf-sweep: $rate/s — performance validator ($duration s)"
  "$bin/tmt-performance-validator" --rate "$rate" --duration "$duration" --signals-per-second "$sps" --no-sla \
    --json "$out/perf-$rate.json" | grep -E '^\| (signal|tick|gateway)|ticks sent' | sed 's/^/  /'
  rows+=("$(python3 - "$out/perf-$rate.json" "$floor_line" <<'PY'
import json, re, sys
f = json.load(open(sys.argv[1]))
m = re.search(r"p50=([\d.]+) p95=([\d.]+) p99=([\d.]+)", sys.argv[2])
fp50, fp99 = (float(m.group(1)), float(m.group(3))) if m else (None, None)
def p(key, q):
    v = (f.get(key) or {}).get(q)
    return "n/a" if v is None else f"{v:.1f}"
t2f = (f.get("tick_to_fill_ms") or {}).get("p99")
ratio = f"{t2f / fp99:.1f}×" if t2f and fp99 else "n/a"
def three(key):
    return f"{p(key,'p50')} / {p(key,'p95')} / {p(key,'p99')}"
print(f"| {f['rate']:.0f} | {f['ticks_per_s']:.0f} | {fp50 if fp50 is not None else 'n/a'} / {fp99 if fp99 is not None else 'n/a'} | "
      f"{three('signal_to_decision_ms')} | {three('tick_to_decision_ms')} | {three('tick_to_fill_ms')} | {ratio} | "
      f"{f.get('wyckoff_orders', 'n/a')} | {f['cpu_percent_avg']} | {f['rss_mb_total']} / {f.get('pss_mb_total', 'n/a')} |")
PY
)")
done

echo
echo "| ticks/s asked | sent | broker floor 7 hops p50 / p99 ms | signal→decision p50 / p95 / p99 ms | tick→decision p50 / p95 / p99 ms | tick→fill p50 / p95 / p99 ms | tick→fill p99 ÷ floor p99 | Wyckoff's orders | CPU % (machine) | resident / proportional MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
