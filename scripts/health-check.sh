#!/usr/bin/env bash
# Checks every endpoint and piece of infrastructure of a running TMT Staging, prints a table,
# and exits non-zero when anything is down. Works for the native stack and for Docker Compose.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
  cat <<'USAGE'
Usage: scripts/health-check.sh [--native | --docker] [--timeout SECONDS] [--quiet] [--help]

Probes a running TMT Staging and prints one line per component (status, latency, detail):
  API gateway      /health (aggregated), /ready, the dashboard on :3000
  agents           each agent's /ready (native: ports 8001-8008; Docker: through the
                   gateway's /api/v1/agents, since agents publish no host port)
  PostgreSQL       trading_staging on 5433, market_data_staging on 5434
  Redis            PING on 6380
  Kafka            TCP connect to the bootstrap (native: the dev broker's file; Docker: 9093)
  monitoring       Prometheus 9091 (/-/ready and every scrape target up), Alertmanager 9094,
                   node exporter (native 9100), Grafana 3001 (Docker only)

  --native | --docker   which deployment (default: Docker when the tmt-staging compose
                        project has running containers, otherwise native)
  --timeout SECONDS     per probe (default 5)
  --quiet               print only failures
Exit status: 0 all healthy, 1 something is down, 2 usage error.
USAGE
}

mode=auto timeout=5 quiet=false
while [ $# -gt 0 ]; do
  case "$1" in
    --native) mode=native ;;
    --docker) mode=docker ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift ;;
    --quiet) quiet=true ;;
    -h|--help) usage; exit 0 ;;
    *) echo "health-check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

docker_running() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 \
    && [ -n "$(docker ps -q --filter label=com.docker.compose.project=tmt-staging 2>/dev/null)" ]
}
if [ "$mode" = auto ]; then
  if docker_running; then mode=docker; else mode=native; fi
fi

failures=0
row() { # component status latency detail
  if [ "$2" != ok ]; then failures=$((failures + 1)); fi
  if ! $quiet || [ "$2" != ok ]; then printf '%-30s %-5s %8s  %s\n' "$1" "$2" "$3" "$4"; fi
}
now_ms() { date +%s%3N; }

# probe NAME COMMAND...: ok when the command (each bounded by --timeout) exits 0.
probe() {
  local name=$1; shift
  local start out rc
  start=$(now_ms)
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  local ms=$(( $(now_ms) - start ))
  if [ $rc -eq 0 ]; then row "$name" ok "${ms}ms" "$(printf '%s' "$out" | head -c 80 | tr '\n' ' ')"
  else row "$name" DOWN "${ms}ms" "$(printf '%s' "$out" | tail -c 160 | tr '\n' ' ')"; fi
}

http() { curl -fsS -o /dev/null -w '%{http_code}' --max-time "$timeout" "$1"; }
http_body() { curl -fsS --max-time "$timeout" "$1"; }
tcp() { # host:port
  # shellcheck disable=SC2016  # expanded by the inner bash, from its own $1
  timeout "$timeout" bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"' _ "$1" 2>/dev/null && echo "connected $1"
}

# The gateway's /health names the failing components; print them on failure.
gateway_health() {
  local body code
  body=$(curl -sS --max-time "$timeout" -w '\n%{http_code}' http://127.0.0.1:8000/health) || return 1
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  if [ "$code" = 200 ]; then echo "healthy"; return 0; fi
  echo "HTTP $code: $(printf '%s' "$body" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("failing:", ", ".join(d.get("failing", [])))' 2>/dev/null || echo "$body")"
  return 1
}

# Every Prometheus target up.
prometheus_targets() {
  local body
  body=$(http_body http://127.0.0.1:9091/api/v1/targets) || return 1
  printf '%s' "$body" | python3 -c '
import json, sys
targets = json.load(sys.stdin)["data"]["activeTargets"]
down = [t["labels"]["job"] + " " + t["scrapeUrl"] + ": " + (t.get("lastError") or t["health"]) for t in targets if t["health"] != "up"]
if down or not targets:
    print("; ".join(down) or "no targets"); sys.exit(1)
print(len(targets), "targets up")'
}

# Docker: the agents' states as the gateway sees them.
agents_via_gateway() {
  local body
  body=$(http_body http://127.0.0.1:8000/api/v1/agents) || return 1
  printf '%s' "$body" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
bad = [a["name"] + " " + a["status"] + (": " + a["lastError"] if a.get("lastError") else "") for a in items if a["status"] != "up"]
if bad: print("; ".join(bad)); sys.exit(1)
print(len(items), "agents up:", ", ".join(a["name"] for a in items))'
}

pg_ready() { # port database user
  if command -v pg_isready >/dev/null 2>&1; then pg_isready -h 127.0.0.1 -p "$1" -d "$2" -U "$3" -t "$timeout"
  else tcp "127.0.0.1:$1"; fi
}

redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then timeout "$timeout" redis-cli -h 127.0.0.1 -p 6380 ping | grep -q PONG && echo PONG
  else tcp 127.0.0.1:6380; fi
}

echo "TMT Staging health ($mode), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '%-30s %-5s %8s  %s\n' COMPONENT STATE LATENCY DETAIL
probe "api-gateway /health" gateway_health
probe "api-gateway /ready" http http://127.0.0.1:8000/ready
probe "dashboard :3000" http http://127.0.0.1:3000/
if [ "$mode" = native ]; then
  for a in circuit-breaker:8001 compliance-engine:8002 wyckoff-analysis:8003 aria-risk:8004 execution-engine:8005 \
           anti-correlation:8006 human-behavior:8007 continuous-improvement:8008; do
    probe "${a%%:*} /ready" http "http://127.0.0.1:${a##*:}/ready"
  done
  probe "postgres trading :5433" pg_ready 5433 trading_staging trading_user
  probe "postgres market :5434" pg_ready 5434 market_data_staging timescale_user
  bootstrap_file=${TMT_STACK_DIR:-$repo/.state/stack}/test-services/kafka.bootstrap
  if [ -s "$bootstrap_file" ]; then probe "kafka $(cut -d, -f1 "$bootstrap_file")" tcp "$(cut -d, -f1 "$bootstrap_file")"
  else row "kafka (dev broker)" DOWN - "no bootstrap file $bootstrap_file"; fi
  market_file=${bootstrap_file%/*}/kafka-market.bootstrap
  if [ -s "$market_file" ]; then probe "kafka market data $(cut -d, -f1 "$market_file")" tcp "$(cut -d, -f1 "$market_file")"; fi
  probe "node-exporter :9100" http http://127.0.0.1:9100/metrics
else
  probe "agents (via gateway)" agents_via_gateway
  probe "postgres trading :5433" pg_ready 5433 trading_staging trading_user
  probe "timescaledb market :5434" pg_ready 5434 market_data_staging timescale_user
  probe "kafka :9093" tcp 127.0.0.1:9093
  probe "grafana :3001" http http://127.0.0.1:3001/api/health
fi
probe "redis :6380" redis_ping
probe "prometheus :9091" http http://127.0.0.1:9091/-/ready
probe "prometheus targets" prometheus_targets
probe "alertmanager :9094" http http://127.0.0.1:9094/-/ready

if [ $failures -gt 0 ]; then
  echo "health-check: $failures component(s) down"
  exit 1
fi
echo "health-check: all healthy"
