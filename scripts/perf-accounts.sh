#!/usr/bin/env bash
# The pipeline's latency as the number of staging accounts grows: for each count, a fresh native
# stack whose config names that many accounts, one performance-validator run with every signal
# addressed to every account, then the stack is stopped and removed. Prints a Markdown table.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
  cat <<USAGE
Usage: scripts/perf-accounts.sh [--counts "1 3 10"] [--rate N] [--duration S] [--signals-per-second N] [--out DIR]
       scripts/perf-accounts.sh --write-config N DIR

For each account count N:
  1. a config folder: config/ with N staging accounts (the three of config/compliance-staging.yml
     first, then more of the same firms: acct-ftmo-100k-2, acct-strict-50k-2, …), in both
     compliance-staging.yml and circuit-breaker-staging.yml;
  2. a fresh native stack on it (scripts/stack.sh start --release --no-build, HUMAN_DELAY_SCALE=0,
     its own state folder under --out, the usual ports: nothing else may be running there);
  3. tmt-performance-validator --rate R --duration S --signals-per-second N --signal-accounts all
     --no-sla: each synthetic signal makes one order per account, as Wyckoff's signals do
     (JSON kept in --out);
  4. the stack stopped and its state removed.
Then a table: orders, signal→decision p50/p95/p99, ARIA's and anti-correlation's own time per
order (ARIA sizes every account of a signal in one step; anti-correlation compares each order
with every other account), CPU, memory.

Options:
  --counts "N …"            account counts (default "1 3 10")
  --rate N                  ticks per second (default 250)
  --duration S              seconds of validator load per count (default 30)
  --signals-per-second N    synthetic signals per second, each for every account (default 2)
  --out DIR                 configs, stacks and JSON (default .state/perf-accounts)
  --write-config N DIR      only write step 1's config folder for N accounts to DIR and exit (start
                            a stack on it with CONFIG_DIR=DIR scripts/stack.sh start)
  --help                    this text

Needs the release build (swift build -c release) and what scripts/stack.sh needs.
USAGE
}

counts="1 3 10" rate=250 duration=30 sps=2 out=$repo/.state/perf-accounts write_config=
while [ $# -gt 0 ]; do
  case $1 in
    --counts) counts=$2; shift ;;
    --rate) rate=$2; shift ;;
    --duration) duration=$2; shift ;;
    --signals-per-second) sps=$2; shift ;;
    --out) out=$2; shift ;;
    --write-config) [ $# -ge 3 ] || { echo "perf-accounts: --write-config needs N and DIR" >&2; exit 2; }
                    counts=$2 write_config=$3; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "perf-accounts: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in $counts; do
  if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 50 ]; then
    echo "perf-accounts: --counts: '$n' is not a count from 1 to 50" >&2; exit 2
  fi
done

bin=$repo/.build/release
[ -n "$write_config" ] || [ -x "$bin/tmt-performance-validator" ] || { echo "perf-accounts: no $bin/tmt-performance-validator (swift build -c release)" >&2; exit 2; }
if [ -z "$write_config" ] && curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:8000/ready 2>/dev/null; then
  echo "perf-accounts: a stack already answers on 127.0.0.1:8000; stop it first (its ports are the ones used here)" >&2
  exit 3
fi
mkdir -p "$out"

# config/ with N accounts in both files that list them.
make_config() { # count dir
  # Only a folder this script wrote (or none) is replaced: DIR might be config/ itself.
  if [ -e "$2" ] && [ ! -f "$2/.perf-accounts" ]; then
    echo "perf-accounts: $2 exists and was not written by this script; choose another folder" >&2; exit 2
  fi
  rm -rf "$2"; cp -r "$repo/config" "$2"; touch "$2/.perf-accounts"
  python3 - "$1" "$2" <<'PY'
import re, sys
n, folder = int(sys.argv[1]), sys.argv[2]
base = [("acct-ftmo-100k", "ftmo-like", 100000), ("acct-strict-50k", "strict-4-8", 50000), ("acct-trail-50k", "trailing-6", 50000)]
accounts = [(aid if i < 3 else f"{aid}-{i // 3 + 1}", firm, bal) for i in range(n) for aid, firm, bal in [base[i % 3]]]

def replace_block(path, block):
    text = open(path).read()
    # The top-level `accounts:` key and its indented (or blank/comment) lines, up to the next top-level key.
    pattern = re.compile(r"^accounts:\n(?:(?:[ \t]+.*|[ \t]*)\n)*", re.M)
    if not pattern.search(text):
        sys.exit(f"perf-accounts: no top-level accounts: in {path}")
    open(path, "w").write(pattern.sub(lambda _: block, text, count=1))

replace_block(f"{folder}/compliance-staging.yml", "accounts:\n" + "".join(
    f"  - id: {aid}\n    firm: {firm}\n    initial_balance: {bal}\n    currency: USD\n" for aid, firm, bal in accounts) + "\n")
replace_block(f"{folder}/circuit-breaker-staging.yml", "accounts:\n" + "".join(f"  - {aid}\n" for aid, _, _ in accounts) + "\n")
PY
}

if [ -n "$write_config" ]; then
  make_config "$counts" "$write_config"
  echo "perf-accounts: $write_config: config/ with $counts staging account(s)"
  exit 0
fi

rows=()
for n in $counts; do
  config_dir=$out/config-$n stack_dir=$out/stack-$n
  make_config "$n" "$config_dir"
  echo "perf-accounts: $n account(s) — fresh stack in $stack_dir"
  TMT_STACK_DIR=$stack_dir "$here/stack.sh" stop >/dev/null 2>&1 || true
  rm -rf "$stack_dir"
  stop_stack() { TMT_STACK_DIR=$stack_dir "$here/stack.sh" stop >/dev/null 2>&1 || true; rm -rf "$stack_dir"; }
  trap stop_stack EXIT
  CONFIG_DIR=$config_dir HUMAN_DELAY_SCALE=0 TMT_STACK_DIR=$stack_dir "$here/stack.sh" start --release --no-build --no-monitoring \
    | sed 's/^/  /' | grep -E "error|stack is up" || true
  if ! TMT_STACK_DIR=$stack_dir "$here/stack.sh" status >/dev/null; then
    trap - EXIT
    TMT_STACK_DIR=$stack_dir "$here/stack.sh" stop >/dev/null 2>&1 || true
    echo "perf-accounts: the stack for $n account(s) did not come up (logs kept: $stack_dir/logs)" >&2; exit 1
  fi
  echo "perf-accounts: $n account(s) — performance validator ($rate ticks/s, $duration s, $sps signals/s for every account)"
  (
    eval "$(TMT_STACK_DIR=$stack_dir "$here/stack.sh" env)"
    export TMT_API_TOKEN_FILE=$stack_dir/secrets/api-token
    "$bin/tmt-performance-validator" --rate "$rate" --duration "$duration" --signals-per-second "$sps" --signal-accounts all --no-sla \
      --json "$out/perf-accounts-$n.json" | grep -E '^\| (signal → dec|inside (aria|anti))|ticks sent' | sed 's/^/  /'
  )
  rows+=("$(python3 - "$out/perf-accounts-$n.json" "$n" <<'PY'
import json, sys
f, n = json.load(open(sys.argv[1])), sys.argv[2]
def p(obj, q):
    v = (obj or {}).get(q)
    return "n/a" if v is None else f"{v:.1f}"
s = f.get("signal_to_decision_ms")
agents = f.get("per_agent_ms") or {}
a, c = agents.get("aria-risk"), agents.get("anti-correlation")
print(f"| {n} | {f['signals']} | {f['orders']} | {p(s,'count').replace('.0','')} | {p(s,'p50')} / {p(s,'p95')} / {p(s,'p99')} | "
      f"{p(a,'p50')} / {p(a,'p95')} | {p(c,'p50')} / {p(c,'p95')} | {f['cpu_percent_avg']} | {f.get('pss_mb_total', 'n/a')} |")
PY
)")
  stop_stack
  trap - EXIT
done

echo
echo "| accounts | signals | orders | measured | signal→decision p50 / p95 / p99 ms | inside ARIA p50 / p95 ms | inside anti-correlation p50 / p95 ms | CPU % (machine) | proportional MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
