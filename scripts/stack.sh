#!/usr/bin/env bash
# The native stack runner: PostgreSQL, Redis and the Kafka dev broker (via test-services.sh, on
# the staging ports), then the eight agents, optionally the market-data generator, with logs and
# pid files under one state folder. Waits until every /ready answers.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
state=${TMT_STACK_DIR:-$repo/.state/stack}
config=debug

# Daemons started from here must not inherit our caller's descriptors beyond stdio: a caller
# that waits for this script (Foundation's Process watches a socket pair) would otherwise wait
# for the daemons to exit too.
for fd_path in /proc/"$$"/fd/*; do
  fd=${fd_path##*/}
  if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

# name:executable:port — the agents this runner starts, in start order (ARCHITECTURE.md ports).
agents=(
  "circuit-breaker:tmt-circuit-breaker:8001"
  "compliance-engine:tmt-compliance-engine:8002"
  "aria-risk:tmt-aria-risk:8004"
  "wyckoff-analysis:tmt-wyckoff-analysis:8003"
  "execution-engine:tmt-execution-engine:8005"
  "anti-correlation:tmt-anti-correlation:8006"
  "human-behavior:tmt-human-behavior:8007"
  "continuous-improvement:tmt-continuous-improvement:8008"
  "api-gateway:tmt-api-gateway:8000"
)
# Agents that hold global state in one process and must not be scaled out.
single_instance=" circuit-breaker execution-engine continuous-improvement api-gateway "

usage() {
  cat <<USAGE
Usage: scripts/stack.sh start [--release] [--generator] [--rate N] [--seed N] [--scale AGENT=N]...
       scripts/stack.sh stop | status | env | logs AGENT | --help

Runs TMT Staging natively (no Docker) under $state:
  infrastructure  PostgreSQL 127.0.0.1:5433 (trading_staging), a second cluster on 5434
                  (market_data_staging, as compose's TimescaleDB; plain PostgreSQL, Debian has
                  no timescaledb), Redis 127.0.0.1:6380, Kafka dev broker (librdkafka mock, random port)
  agents          $(for a in "${agents[@]}"; do IFS=: read -r n _ p <<<"$a"; printf '%s:%s ' "$n" "$p"; done)
  generator       tmt-data-generator with six scripted Wyckoff scenarios, 10 simulated minutes
                  apart (with --generator)
  API gateway     http://127.0.0.1:8000 (aggregated /health, /api/v1/…, docs/api/openapi.yaml)
  dashboard       http://127.0.0.1:3000 (served by the gateway)
  API token       $state/secrets/api-token (made on first start): the bearer token of the
                  mutating endpoints (gateway breaker commands, continuous improvement's approve/stop)
  monitoring      Prometheus http://127.0.0.1:9091 (every instance, from targets/*.json),
                  Alertmanager http://127.0.0.1:9094, node exporter 127.0.0.1:9100 (Debian
                  packages; configs from deployment/staging/monitoring); Grafana is Docker-only

  start        build, start what is not running, wait for every /ready (progress shown)
    --release      release build (default debug)
    --generator    also run the market-data generator (until stop)
    --rate N       generator ticks per second (default 200)
    --seed N       generator seed (default 42)
    --scale A=N    run N instances of agent A (extra instances on port + 100 × i); not for
                   circuit-breaker, execution-engine, continuous-improvement, api-gateway
    --no-monitoring  leave out Prometheus, Alertmanager and the node exporter
    --no-build     use the binaries already built (deploy-staging.sh builds before it starts)
  stop         SIGTERM every agent and the generator, then stop the infrastructure
  status       one line per process with its /ready answer; exit 1 if anything is down
  env          print export lines (database URLs, Redis, Kafka bootstrap) to join the stack
  logs AGENT   follow an agent's log

Environment passed to the agents as set: CONFIG_DIR (default config/: the firms, staging accounts and
breaker settings), MARKET_QUOTES (default redis), HUMAN_DELAY_SCALE, RISK_MULTIPLIER, COMPLIANCE_MODE,
CIRCUIT_BREAKER_THRESHOLDS_LOOSE, IMPROVEMENT_CYCLE_FAST, DETECTION_INTERVAL, LOG_LEVEL, KAFKA_*.
USAGE
}

log() { echo "stack: $*"; }
die() { echo "stack: error: $*" >&2; exit 1; }

services() {
  TMT_DURABLE=1 TMT_STATE_DIR="$state" TMT_TEST_PG_PORT=5433 TMT_TEST_MARKET_PG_PORT=5434 TMT_TEST_REDIS_PORT=6380 \
    TMT_BROKER_BIN="$repo/.build/$config/tmt-kafka-dev-broker" "$here/test-services.sh" "$@"
}

stack_env() {
  local env_file="$state/test-services/env"
  [ -f "$env_file" ] || die "the stack is not running (no $env_file)"
  # shellcheck disable=SC1090
  . "$env_file"
  echo "export DATABASE_URL='$TMT_TEST_POSTGRES_URL'"
  echo "export MARKET_DATABASE_URL='$TMT_TEST_MARKET_DB_URL'"
  echo "export REDIS_URL='$TMT_TEST_REDIS_URL'"
  echo "export KAFKA_BOOTSTRAP_FILE='$TMT_TEST_KAFKA_BOOTSTRAP_FILE'"
  # market.ticks on the dev broker's second mock cluster (its own thread): see KafkaConfiguration.marketBootstrapServers.
  if [ -n "${TMT_TEST_KAFKA_MARKET_BOOTSTRAP_FILE:-}" ] && [ -s "$TMT_TEST_KAFKA_MARKET_BOOTSTRAP_FILE" ]; then
    echo "export KAFKA_MARKET_BOOTSTRAP_FILE='$TMT_TEST_KAFKA_MARKET_BOOTSTRAP_FILE'"
  fi
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_agent() { # name executable port instance
  local name=$1 exe=$2 port=$3 i=$4
  local id="$name-$i" pidf="$state/pids/$name-$i.pid"
  if running "$pidf"; then log "$id already running (pid $(cat "$pidf"))"; return; fi
  log "starting $id on port $port"
  (
    eval "$(stack_env)"
    export PORT=$port HTTP_HOST=127.0.0.1 CONFIG_DIR="${CONFIG_DIR:-$repo/config}" PAPER_TRADING=true
    export MARKET_QUOTES="${MARKET_QUOTES:-redis}"
    export IMPROVEMENT_API_TOKEN_FILE="$state/secrets/api-token" TMT_API_TOKEN_FILE="$state/secrets/api-token"
    exec "$repo/.build/$config/$exe" >>"$state/logs/$id.log" 2>&1
  ) &
  echo $! > "$pidf"
}

wait_ready() { # id port pidfile
  wait_http "$1" "http://127.0.0.1:$2/ready" "$3" "$state/logs/$1.log" 120
}

monitoring_dir=$repo/deployment/staging/monitoring

# Prometheus's file discovery: one targets/<job>.json per agent with every instance running.
write_targets() {
  mkdir -p "$state/prometheus/targets"
  shopt -s nullglob
  for a in "${agents[@]}"; do
    IFS=: read -r name _ port <<<"$a"
    local targets=() f
    for f in "$state"/pids/"$name"-*.pid; do
      running "$f" || continue
      local i; i=$(basename "$f" .pid); i=${i##*-}
      targets+=("\"127.0.0.1:$((port + 100 * (i - 1)))\"")
    done
    local list; list=$(IFS=,; echo "${targets[*]}")
    printf '[{"targets": [%s], "labels": {"service": "%s"}}]\n' "$list" "$name" > "$state/prometheus/targets/tmt-$name.json.tmp"
    mv "$state/prometheus/targets/tmt-$name.json.tmp" "$state/prometheus/targets/tmt-$name.json"
  done
}

start_process() { # id pidfile logfile command...
  local id=$1 pidf=$2 logf=$3; shift 3
  if running "$pidf"; then log "$id already running (pid $(cat "$pidf"))"; return; fi
  log "starting $id"
  nohup "$@" >>"$logf" 2>&1 &
  echo $! > "$pidf"
}

wait_http() { # id url pidfile logfile [seconds]
  local id=$1 url=$2 pidf=$3 logf=$4 limit=${5:-60}
  for s in $(seq 1 "$limit"); do
    if curl -sf "$url" >/dev/null 2>&1; then log "$id ready"; return 0; fi
    if ! running "$pidf"; then tail -20 "$logf" >&2; die "$id exited while starting (log: $logf)"; fi
    [ $((s % 10)) -eq 0 ] && log "waiting for $id (${s}s)"
    sleep 1
  done
  tail -20 "$logf" >&2
  die "$id not ready after $limit s"
}

start_monitoring() {
  command -v prometheus >/dev/null || die "prometheus not found (run scripts/install-deps.sh)"
  command -v prometheus-alertmanager >/dev/null || die "prometheus-alertmanager not found (run scripts/install-deps.sh)"
  command -v prometheus-node-exporter >/dev/null || die "prometheus-node-exporter not found (run scripts/install-deps.sh)"
  mkdir -p "$state/prometheus/data" "$state/alertmanager/data" "$state/textfile"
  cp "$monitoring_dir/prometheus/prometheus-native.yml" "$state/prometheus/prometheus.yml"
  cp "$monitoring_dir/prometheus/alert_rules.yml" "$state/prometheus/alert_rules.yml"
  write_targets
  start_process node-exporter "$state/pids/node-exporter.pid" "$state/logs/node-exporter.log" \
    prometheus-node-exporter --web.listen-address=127.0.0.1:9100 --collector.textfile.directory="$state/textfile"
  # --cluster.listen-address= turns gossip off (its default port, 9094, is the UI's here).
  start_process alertmanager "$state/pids/alertmanager.pid" "$state/logs/alertmanager.log" \
    prometheus-alertmanager --config.file="$monitoring_dir/alertmanager/alertmanager.yml" \
    --storage.path="$state/alertmanager/data" --web.listen-address=127.0.0.1:9094 --cluster.listen-address=
  start_process prometheus "$state/pids/prometheus.pid" "$state/logs/prometheus.log" \
    prometheus --config.file="$state/prometheus/prometheus.yml" --storage.tsdb.path="$state/prometheus/data" \
    --web.listen-address=127.0.0.1:9091 --web.enable-lifecycle --storage.tsdb.retention.time=7d
  wait_http node-exporter http://127.0.0.1:9100/metrics "$state/pids/node-exporter.pid" "$state/logs/node-exporter.log"
  wait_http alertmanager http://127.0.0.1:9094/-/ready "$state/pids/alertmanager.pid" "$state/logs/alertmanager.log"
  wait_http prometheus http://127.0.0.1:9091/-/ready "$state/pids/prometheus.pid" "$state/logs/prometheus.log"
}

cmd_start() {
  local generator=false rate=200 seed=42 monitoring=true build=true
  declare -A scale=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --release) config=release ;;
      --generator) generator=true ;;
      --no-monitoring) monitoring=false ;;
      --no-build) build=false ;;
      --rate) rate=${2:?--rate needs a number}; shift ;;
      --seed) seed=${2:?--seed needs a number}; shift ;;
      --scale)
        local spec=${2:?--scale needs AGENT=N}; shift
        [[ $spec =~ ^([a-z-]+)=([1-9][0-9]?)$ ]] || die "--scale: expected AGENT=N, got '$spec'"
        scale[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]} ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  for a in "${!scale[@]}"; do
    printf '%s\n' "${agents[@]}" | grep -q "^$a:" || die "--scale: unknown agent '$a'"
    [[ $single_instance == *" $a "* && ${scale[$a]} -gt 1 ]] && die "--scale: $a runs as one process (it holds global state)"
  done
  mkdir -p "$state/logs" "$state/pids" "$state/secrets"
  if [ ! -s "$state/secrets/api-token" ]; then
    (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$state/secrets/api-token")
    log "API token written to $state/secrets/api-token"
  fi
  if $build; then
    log "building ($config)"
    (cd "$repo" && swift build -c "$config") >"$state/logs/build.log" 2>&1 || { tail -30 "$state/logs/build.log" >&2; die "build failed"; }
  else
    for a in "${agents[@]}"; do
      IFS=: read -r _ exe _ <<<"$a"
      [ -x "$repo/.build/$config/$exe" ] || die "--no-build: $repo/.build/$config/$exe is missing (build first)"
    done
  fi
  services start
  for a in "${agents[@]}"; do
    IFS=: read -r name exe port <<<"$a"
    local n=${scale[$name]:-1}
    for i in $(seq 1 "$n"); do start_agent "$name" "$exe" $((port + 100 * (i - 1))) "$i"; done
  done
  for a in "${agents[@]}"; do
    IFS=: read -r name exe port <<<"$a"
    local n=${scale[$name]:-1}
    for i in $(seq 1 "$n"); do wait_ready "$name-$i" $((port + 100 * (i - 1))) "$state/pids/$name-$i.pid"; done
  done
  if $monitoring; then start_monitoring; fi
  if $generator && ! running "$state/pids/generator.pid"; then
    log "starting tmt-data-generator (seed $seed, $rate ticks/s, six scenarios 10 simulated minutes apart)"
    (
      eval "$(stack_env)"
      exec "$repo/.build/$config/tmt-data-generator" --seed "$seed" --rate "$rate" \
        --scenario accumulation:EUR_USD@0 --scenario distribution:GBP_USD@10 --scenario accumulation:USD_JPY@20 \
        --scenario distribution:AUD_USD@30 --scenario accumulation:XAU_USD@40 --scenario distribution:US30@50 \
        >>"$state/logs/generator.log" 2>&1
    ) &
    echo $! > "$state/pids/generator.pid"
  fi
  log "stack is up; scripts/stack.sh status | env | logs AGENT | stop"
}

cmd_stop() {
  shopt -s nullglob
  local pids=()
  for f in "$state"/pids/*.pid; do
    if running "$f"; then kill -TERM "$(cat "$f")" 2>/dev/null || true; pids+=("$(cat "$f")"); fi
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && { log "pid $p did not stop in 15 s; killing"; kill -KILL "$p" 2>/dev/null || true; }
  done
  rm -f "$state"/pids/*.pid
  [ ${#pids[@]} -gt 0 ] && log "stopped ${#pids[@]} process(es)"
  services stop
}

cmd_status() {
  local rc=0
  services status || rc=1
  shopt -s nullglob
  for f in "$state"/pids/*.pid; do
    local id; id=$(basename "$f" .pid)
    if ! running "$f"; then printf '%-22s down\n' "$id"; rc=1; continue; fi
    local port=""
    for a in "${agents[@]}"; do
      IFS=: read -r name _ p <<<"$a"
      [[ $id == "$name-"* ]] && port=$((p + 100 * (${id##*-} - 1)))
    done
    local url=""
    [ -n "$port" ] && url="http://127.0.0.1:$port/ready"
    case $id in
      prometheus) url=http://127.0.0.1:9091/-/ready; port=9091 ;;
      alertmanager) url=http://127.0.0.1:9094/-/ready; port=9094 ;;
      node-exporter) url=http://127.0.0.1:9100/metrics; port=9100 ;;
    esac
    if [ -n "$url" ]; then
      if curl -sf "$url" >/dev/null 2>&1; then printf '%-22s up    ready  :%s\n' "$id" "$port"
      else printf '%-22s up    NOT READY :%s\n' "$id" "$port"; rc=1; fi
    else
      printf '%-22s up\n' "$id"
    fi
  done
  return $rc
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) stack_env ;;
  logs) [ -n "${2:-}" ] || die "logs needs an agent name, e.g. wyckoff-analysis-1"; tail -F "$state/logs/$2.log" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
