#!/usr/bin/env bash
# deploy-staging.sh — one command for a working, monitored TMT Staging: Docker Compose where a
# Docker engine answers, otherwise natively (Debian's PostgreSQL, Redis, Prometheus and
# Alertmanager, the librdkafka mock broker). See deployment/staging/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
stack=$repo/scripts/stack.sh
state=${TMT_STACK_DIR:-$repo/.state/stack}
reports=${TMT_REPORTS_DIR:-$here/reports}
secrets=$here/secrets
compose_file=$repo/docker-compose.staging.yml

# Daemons started from here must not inherit our caller's descriptors beyond stdio: a caller
# that waits for this script (Foundation's Process watches a socket pair) would otherwise wait
# for the daemons to exit too.
for fd_path in /proc/"$$"/fd/*; do
  fd=${fd_path##*/}
  if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

# Exit codes (documented in --help and the README).
EXIT_OK=0 EXIT_FAILED=1 EXIT_USAGE=2 EXIT_PREREQ=3 EXIT_REFUSED=4 EXIT_TESTS=5

usage() {
  cat <<'USAGE'
Usage: deploy-staging.sh [--docker | --native] [--force] [--cleanup-volumes] [--skip-tests] [--quick]
                         [--with-data] [--scale SERVICE=N]... [--timeout SECONDS]
       deploy-staging.sh --stop [--cleanup-volumes] | --status | --logs [SERVICE] | --env | --help

Deploys TMT Staging and leaves it running until --stop:
  1. checks prerequisites (Docker ≥ 20.10 and Compose ≥ 2.0, 8 GiB RAM, 20 GiB disk; native:
     4 GiB RAM, 5 GiB disk, the Swift toolchain, and the Debian packages — missing ones are
     installed with scripts/install-deps.sh, which needs root)
  2. refuses to deploy over a running environment unless --force (which stops it first)
  3. builds (Docker: the tmt-staging image; native: a release build)
  4. starts the infrastructure, then the services (each applies its schema migrations at start,
     under an advisory lock), then monitoring, and waits for the gateway's aggregated /health
  5. runs the checks unless --skip-tests: scripts/health-check.sh (every endpoint, every
     Prometheus target up), the integration tester (tmt-integration-tester: health, a seeded
     scenario through the whole pipeline, metrics, monitoring) and, without --quick, the
     performance validator (tmt-performance-validator at PERF_RATE ticks/s, default 200, for
     PERF_DURATION s, default 30, PERF_SIGNALS_PER_SECOND synthetic signals/s, default 6), which fails the deploy on an SLA breach; their JUnit and JSON
     reports go next to the deployment report
  6. prints the access points and writes a report (Markdown and JSON) to deployment/staging/reports
On failure it shows the failing service's last log lines and stops what it started
(--cleanup-volumes also removes the data).

Mode:
  --docker            Docker Compose (docker-compose.staging.yml); default when an engine answers
  --native            the native stack (scripts/stack.sh); default otherwise. Grafana, pgAdmin,
                      Kafka UI and Redis Commander are Docker-only; the Kafka dev broker listens
                      on a random port (see --env), everything else on the compose host ports
                      (the market database on 5434 is plain PostgreSQL: Debian has no timescaledb).
Deploy options:
  --force             redeploy over a running environment
  --cleanup-volumes   on failure (or with --stop) also remove the data volumes / state folder
  --skip-tests        skip the post-deployment checks
  --quick             no image build (native: reuse an existing build) and no performance validator
  --with-data         also run the market-data generator (compose profile data-generation;
                      GENERATOR_RATE ticks/s, default 200)
  --debug             native: a debug build instead of release (quicker to build; for development)
  --scale SERVICE=N   run N instances (native: aria-risk=3; Docker: aria-risk-staging=3)
  --timeout SECONDS   how long to wait for health (default 600)
Other actions:
  --stop              stop the environment (Docker: compose down)
  --status            what runs, and scripts/health-check.sh
  --logs [SERVICE]    follow logs (Docker: compose logs -f; native: the service's log files)
  --env               print export lines (database URLs, Redis, Kafka bootstrap, API token file)
                      for: eval "$(./deploy-staging.sh --env)"
  --help              this text

Exit status: 0 deployed (or action done), 1 deployment failed (stopped again), 2 usage error,
3 prerequisites missing, 4 refused (already running; use --force), 5 deployed but the checks failed
(stopped again).
USAGE
}

# ---- arguments ---------------------------------------------------------------------------------
mode=auto action=deploy force=false cleanup=false skip_tests=false quick=false with_data=false timeout=600 logs_service=""
build_config=release
scale=()
while [ $# -gt 0 ]; do
  case "$1" in
    --docker) mode=docker ;;
    --native) mode=native ;;
    --force) force=true ;;
    --cleanup-volumes) cleanup=true ;;
    --skip-tests) skip_tests=true ;;
    --quick) quick=true ;;
    --with-data) with_data=true ;;
    --debug) build_config=debug ;;
    --scale)
      [[ ${2:-} =~ ^[a-z-]+=[1-9][0-9]?$ ]] || { echo "deploy-staging: --scale needs SERVICE=N, got '${2:-}'" >&2; exit $EXIT_USAGE; }
      scale+=("$2"); shift ;;
    --timeout)
      [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "deploy-staging: --timeout needs seconds" >&2; exit $EXIT_USAGE; }
      timeout=$2; shift ;;
    --stop) action=stop ;;
    --status) action=status ;;
    --logs) action=logs; if [ -n "${2:-}" ] && [[ $2 != --* ]]; then logs_service=$2; shift; fi ;;
    --env) action="env" ;;
    -h|--help) usage; exit $EXIT_OK ;;
    *) echo "deploy-staging: unknown option '$1' (see --help)" >&2; exit $EXIT_USAGE ;;
  esac
  shift
done

started_at=$(date +%s)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# Progress goes to stdout, except for --env, whose stdout is meant for eval.
log() { if [ "$action" = env ]; then echo "[deploy $(date -u +%H:%M:%S)] $*" >&2; else echo "[deploy $(date -u +%H:%M:%S)] $*"; fi; }
warn() { echo "[deploy $(date -u +%H:%M:%S)] WARNING: $*" >&2; }
fail() { echo "[deploy $(date -u +%H:%M:%S)] ERROR: $*" >&2; }

declare -a step_names=() step_results=() step_seconds=()
step_started=0
current_step=""
begin_step() { current_step=$1; step_started=$(date +%s); log "── $1"; }
end_step() { # result
  step_names+=("$current_step"); step_results+=("$1"); step_seconds+=($(( $(date +%s) - step_started )))
}

# ---- mode --------------------------------------------------------------------------------------
compose_cmd=()
find_compose() {
  if docker compose version >/dev/null 2>&1; then compose_cmd=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then compose_cmd=(docker-compose)
  fi
}
docker_engine() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }
if [ "$mode" = auto ]; then
  if docker_engine; then mode=docker; log "a Docker engine answers: deploying with Docker Compose (--native to override)"
  else mode=native; log "no Docker engine answers: deploying natively (scripts/stack.sh; --docker to insist)"; fi
fi
compose() { "${compose_cmd[@]}" -f "$compose_file" --project-name tmt-staging --project-directory "$repo" "$@"; }

# ---- small helpers -----------------------------------------------------------------------------
version_ge() { # a b: a ≥ b (dotted versions)
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}
mem_gib() { awk '/MemTotal/ { printf "%d", $2 / 1048576 }' /proc/meminfo; }
disk_gib() { df -Pk "$1" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }

native_anything_running() {
  shopt -s nullglob
  local f
  for f in "$state"/pids/*.pid "$state"/test-services/redis/redis.pid "$state"/test-services/kafka/broker.pid; do
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && return 0
  done
  [ -f "$state/test-services/pg/data/postmaster.pid" ] && kill -0 "$(head -1 "$state/test-services/pg/data/postmaster.pid")" 2>/dev/null && return 0
  return 1
}

# The failing services' last log lines.
show_failures() {
  if [ "$mode" = native ]; then
    local line id
    while read -r line; do
      id=$(awk '{print $1}' <<<"$line")
      [ -f "$state/logs/$id.log" ] || continue
      echo "----- $id (last 25 lines of $state/logs/$id.log)"
      tail -25 "$state/logs/$id.log"
    done < <("$stack" status 2>/dev/null | grep -E 'down|NOT READY' || true)
    local unhealthy
    unhealthy=$(curl -s --max-time 5 http://127.0.0.1:8000/health 2>/dev/null | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin).get("failing", [])))' 2>/dev/null || true)
    for id in $unhealthy; do
      [ -f "$state/logs/$id-1.log" ] && { echo "----- $id (not healthy; last 25 lines)"; tail -25 "$state/logs/$id-1.log"; }
    done
  else
    local c
    for c in $(compose ps -a -q 2>/dev/null); do
      local name health status
      name=$(docker inspect -f '{{.Name}}' "$c" | sed 's|^/||')
      status=$(docker inspect -f '{{.State.Status}}' "$c")
      health=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")
      if [ "$status" != running ] || { [ "$health" != healthy ] && [ "$health" != none ]; }; then
        echo "----- $name ($status, $health; last 25 log lines)"
        docker logs --tail 25 "$c" 2>&1 || true
      fi
    done
  fi
}

stop_environment() {
  if [ "$mode" = native ]; then
    "$stack" stop || true
    if $cleanup; then log "removing the state folder $state (--cleanup-volumes)"; rm -rf "$state"; fi
  else
    if $cleanup; then compose down --volumes --remove-orphans || true; else compose down --remove-orphans || true; fi
  fi
}

deployment_failed() { # exit-code message
  local code=$1; shift
  end_step failed
  fail "$*"
  show_failures || true
  log "stopping what this deployment started"
  stop_environment
  write_report "failed" "$*"
  exit "$code"
}

# ---- report ------------------------------------------------------------------------------------
health_json=""
test_summary="not run"
write_report() { # result detail
  mkdir -p "$reports"
  local base=$reports/deploy-$stamp result=$1 detail=$2
  local steps_tsv="" i
  for i in "${!step_names[@]}"; do steps_tsv+="${step_names[$i]}"$'\t'"${step_results[$i]}"$'\t'"${step_seconds[$i]}"$'\n'; done
  local docker_version="" compose_version=""
  if [ "$mode" = docker ]; then
    docker_version=$(docker version --format '{{.Server.Version}}' 2>/dev/null || true)
    compose_version=$("${compose_cmd[@]}" version --short 2>/dev/null || true)
  fi
  RESULT=$result DETAIL=$detail MODE=$mode STAMP=$stamp STARTED=$started_at STEPS=$steps_tsv HEALTH=$health_json \
  TESTS=$test_summary REPO=$repo SWIFT="$(swift --version 2>/dev/null | head -1 || true)" \
  GIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  DOCKER=$docker_version COMPOSE=$compose_version \
  python3 - "$base" <<'PY'
import json, os, sys, time, platform
base = sys.argv[1]
steps = [dict(zip(("step", "result", "seconds"), l.split("\t"))) for l in os.environ["STEPS"].splitlines() if l]
for s in steps: s["seconds"] = int(s["seconds"])
try: health = json.loads(os.environ["HEALTH"]) if os.environ["HEALTH"] else None
except ValueError: health = None
report = {
    "report": os.path.basename(base), "result": os.environ["RESULT"], "detail": os.environ["DETAIL"],
    "mode": os.environ["MODE"], "startedAt": int(os.environ["STARTED"]), "finishedAt": int(time.time()),
    "durationSeconds": int(time.time()) - int(os.environ["STARTED"]),
    "versions": {"git": os.environ["GIT"], "swift": os.environ["SWIFT"], "docker": os.environ["DOCKER"] or None,
                 "compose": os.environ["COMPOSE"] or None, "host": platform.node(), "kernel": platform.release()},
    "steps": steps, "tests": os.environ["TESTS"], "health": health,
}
json.dump(report, open(base + ".json", "w"), indent=2)
with open(base + ".md", "w") as f:
    f.write(f"# TMT Staging deployment {report['report']}\n\n")
    f.write(f"- Result: **{report['result']}** {report['detail']}\n- Mode: {report['mode']}\n")
    f.write(f"- Duration: {report['durationSeconds']} s\n- Tests: {report['tests']}\n")
    f.write("- Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v) + "\n\n")
    f.write("| Step | Result | Seconds |\n|---|---|---|\n")
    for s in steps: f.write(f"| {s['step']} | {s['result']} | {s['seconds']} |\n")
    if health:
        f.write("\n## Health at the end\n\n| Component | Status | Latency ms | Error |\n|---|---|---|---|\n")
        for c in health.get("components", []):
            f.write(f"| {c.get('name')} | {c.get('status')} | {c.get('latencyMs')} | {c.get('error') or ''} |\n")

PY
  # For node-exporter's textfile collector: the DeploymentReportGenerated alert.
  # Where the node exporter reads it: compose mounts deployment/staging/reports/metrics.
  local textfile=$here/reports/metrics
  [ "$mode" = native ] && textfile=$state/textfile
  # (Not after --cleanup-volumes removed the native state folder: that would re-create it.)
  if { [ "$mode" = docker ] || [ -d "$state" ]; } && mkdir -p "$textfile" 2>/dev/null; then
    printf '# HELP tmt_deployment_report_timestamp_seconds When deploy-staging.sh last wrote a report.\n# TYPE tmt_deployment_report_timestamp_seconds gauge\ntmt_deployment_report_timestamp_seconds{report="deploy-%s",mode="%s",result="%s"} %s\n' \
      "$stamp" "$mode" "$result" "$(date +%s)" > "$textfile/tmt_deployment.prom.tmp"
    mv "$textfile/tmt_deployment.prom.tmp" "$textfile/tmt_deployment.prom"
  fi
  log "report: $base.md and $base.json"
}

# ---- actions other than deploy -----------------------------------------------------------------
native_env() {
  "$stack" env
  local bootstrap=$state/test-services/kafka.bootstrap
  [ -s "$bootstrap" ] && echo "export KAFKA_BOOTSTRAP_SERVERS='$(cat "$bootstrap")'"
  local market=$state/test-services/kafka-market.bootstrap
  [ -s "$market" ] && echo "export KAFKA_MARKET_BOOTSTRAP_SERVERS='$(cat "$market")'"
  echo "export TMT_API_URL='http://127.0.0.1:8000'"
  echo "export TMT_API_TOKEN_FILE='$state/secrets/api-token'"
}

docker_env() {
  local pg tsdb
  pg=$(cat "$secrets/postgres_password" 2>/dev/null || true)
  tsdb=$(cat "$secrets/timescale_password" 2>/dev/null || true)
  [ -n "$pg" ] || { fail "no secrets in $secrets: deploy first"; exit $EXIT_FAILED; }
  echo "export DATABASE_URL='postgresql://trading_user:$pg@127.0.0.1:5433/trading_staging'"
  echo "export MARKET_DATABASE_URL='postgresql://timescale_user:$tsdb@127.0.0.1:5434/market_data_staging'"
  echo "export REDIS_URL='redis://127.0.0.1:6380/0'"
  echo "export KAFKA_BOOTSTRAP_SERVERS='127.0.0.1:9093'"
  echo "export TMT_API_URL='http://127.0.0.1:8000'"
  echo "export TMT_API_TOKEN_FILE='$secrets/api_token'"
}

if [ "$mode" = docker ]; then find_compose; fi
if [ "$mode" = docker ] && [ "$action" != deploy ] && [ "$action" != env ] && [ ${#compose_cmd[@]} -eq 0 ]; then
  fail "neither 'docker compose' nor docker-compose found"; exit $EXIT_PREREQ
fi
case $action in
  stop)
    log "stopping the $mode environment"
    stop_environment
    log "stopped"
    exit $EXIT_OK ;;
  status)
    if [ "$mode" = native ]; then "$stack" status || true; else compose ps; fi
    exec "$repo/scripts/health-check.sh" "--$mode" ;;
  logs)
    if [ "$mode" = docker ]; then
      if [ -n "$logs_service" ]; then exec "${compose_cmd[@]}" -f "$compose_file" --project-name tmt-staging logs -f "$logs_service"; fi
      exec "${compose_cmd[@]}" -f "$compose_file" --project-name tmt-staging logs -f
    fi
    shopt -s nullglob
    files=("$state"/logs/"${logs_service:-}"*.log)
    [ ${#files[@]} -gt 0 ] || { fail "no log files for '${logs_service:-any service}' in $state/logs"; exit $EXIT_FAILED; }
    exec tail -F "${files[@]}" ;;
  env)
    if [ "$mode" = native ]; then native_env; else docker_env; fi
    exit $EXIT_OK ;;
esac

# ---- deploy: prerequisites -----------------------------------------------------------------------
begin_step "prerequisites ($mode)"
if [ "$mode" = docker ]; then
  command -v docker >/dev/null 2>&1 || { fail "docker not found"; exit $EXIT_PREREQ; }
  docker_version=$(docker version --format '{{.Server.Version}}' 2>/dev/null || true)
  [ -n "$docker_version" ] || { fail "the Docker engine does not answer (docker info); start it or use --native"; exit $EXIT_PREREQ; }
  version_ge "${docker_version%%-*}" 20.10 || { fail "Docker $docker_version is too old: 20.10 or newer is needed"; exit $EXIT_PREREQ; }
  find_compose
  [ ${#compose_cmd[@]} -gt 0 ] || { fail "Docker Compose not found: install the compose plugin (docker compose) ≥ 2.0"; exit $EXIT_PREREQ; }
  compose_version=$("${compose_cmd[@]}" version --short 2>/dev/null | sed 's/^v//')
  version_ge "$compose_version" 2.0 || { fail "Compose $compose_version is too old: 2.0 or newer is needed (docker compose plugin)"; exit $EXIT_PREREQ; }
  [ "$(mem_gib)" -ge 8 ] || warn "$(mem_gib) GiB RAM: the full compose stack wants 8 GiB"
  [ "$(disk_gib /var/lib/docker 2>/dev/null || disk_gib /)" -ge 20 ] || warn "less than 20 GiB free for Docker images and volumes"
  log "Docker $docker_version, Compose $compose_version (${compose_cmd[*]}), $(mem_gib) GiB RAM"
else
  [ "$(mem_gib)" -ge 4 ] || { fail "$(mem_gib) GiB RAM: the native stack needs 4 GiB"; exit $EXIT_PREREQ; }
  [ "$(disk_gib "$repo")" -ge 5 ] || { fail "less than 5 GiB free under $repo"; exit $EXIT_PREREQ; }
  command -v swift >/dev/null 2>&1 || { fail "the Swift 6 toolchain is not on PATH (https://www.swift.org/install/linux/); e.g. export PATH=/opt/swift/usr/bin:\$PATH"; exit $EXIT_PREREQ; }
  if ! "$repo/scripts/install-deps.sh" --check >/dev/null 2>&1; then
    missing=$("$repo/scripts/install-deps.sh" --check 2>&1 || true)
    if [ "$(id -u)" -ne 0 ]; then fail "$missing — run as root (sudo ./deploy-staging.sh) to install them"; exit $EXIT_PREREQ; fi
    log "${missing#install-deps: } — installing them with scripts/install-deps.sh"
    "$repo/scripts/install-deps.sh" || { fail "scripts/install-deps.sh failed"; exit $EXIT_PREREQ; }
  fi
  log "$(swift --version 2>/dev/null | head -1), $(mem_gib) GiB RAM, $(disk_gib "$repo") GiB free"
fi
end_step ok

# ---- deploy: an environment already running? ----------------------------------------------------
begin_step "existing environment"
if [ "$mode" = docker ]; then running=$([ -n "$(compose ps -q 2>/dev/null)" ] && echo yes || echo no)
else running=$(native_anything_running && echo yes || echo no); fi
if [ "$running" = yes ]; then
  if ! $force; then
    end_step refused
    fail "a $mode staging environment is already running; --force redeploys over it, --stop stops it, --status shows it"
    exit $EXIT_REFUSED
  fi
  log "--force: stopping the running environment first (data kept)"
  if [ "$mode" = native ]; then "$stack" stop; else compose down --remove-orphans; fi
fi
end_step ok

# ---- deploy: secrets, build, start ------------------------------------------------------------------
if [ "$mode" = docker ]; then
  begin_step "secrets"
  mkdir -p "$secrets"; chmod 700 "$secrets"
  for s in postgres_password timescale_password api_token improvement_api_token pgadmin_password grafana_admin_password; do
    if [ ! -s "$secrets/$s" ]; then
      if [ "$s" = grafana_admin_password ]; then printf '%s' "${GRAFANA_ADMIN_PASSWORD:-staging_admin_password}" > "$secrets/$s"
      else head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$secrets/$s"; fi
      log "wrote $secrets/$s"
    fi
    # Readable inside the containers (their users differ), every time; the folder keeps others out.
    chmod 644 "$secrets/$s"
  done
  # The node exporter's textfile folder, made by us before Docker would make it root-owned.
  mkdir -p "$here/reports/metrics"
  # Deployed with sudo: the invoking user keeps access (--env, the token file, the reports).
  if [ -n "${SUDO_UID:-}" ]; then chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$secrets" "$here/reports"; fi
  end_step ok

  begin_step "build image"
  if $quick && docker image inspect "tmt-staging:${TMT_IMAGE_TAG:-latest}" >/dev/null 2>&1; then
    log "--quick: using the existing tmt-staging image"; end_step skipped
  else
    compose build || deployment_failed $EXIT_FAILED "the image build failed"
    end_step ok
  fi

  begin_step "infrastructure"
  compose up -d postgres timescaledb redis kafka kafka-init || deployment_failed $EXIT_FAILED "the infrastructure did not start"
  end_step ok
  begin_step "services"
  scale_args=()
  for s in "${scale[@]}"; do scale_args+=(--scale "$s"); done
  compose up -d "${scale_args[@]}" || deployment_failed $EXIT_FAILED "the services did not start"
  if $with_data; then compose --profile data-generation up -d data-generator || deployment_failed $EXIT_FAILED "the data generator did not start"; fi
  end_step ok
else
  begin_step "build ($build_config)"
  if $quick && [ -x "$repo/.build/$build_config/tmt-api-gateway" ]; then
    log "--quick: using the existing $build_config build"; end_step skipped
  else
    mkdir -p "$state/logs"
    log "swift build -c $build_config (progress below; full log $state/logs/build.log)"
    if ! (cd "$repo" && swift build -c "$build_config" 2>&1) | tee "$state/logs/build.log" \
         | awk '/^\[[0-9]+\/[0-9]+\]/ { split(substr($1, 2), n, "/"); if (n[2] <= 100 || n[1] % 25 == 0 || n[1] == n[2]) print "  build " $1 " " $2 " " $3; fflush() } /error:/ { print; fflush() }'; then
      deployment_failed $EXIT_FAILED "the $build_config build failed (see $state/logs/build.log)"
    fi
    [ -x "$repo/.build/$build_config/tmt-api-gateway" ] || deployment_failed $EXIT_FAILED "the $build_config build left no binaries (see $state/logs/build.log)"
    end_step ok
  fi

  # The staging defaults of staging.env (paper trading, HUMAN_DELAY_SCALE, …) apply to the
  # native agents as to the containers, unless the caller's environment sets them.
  while IFS='=' read -r key value; do
    case $key in
      PAPER_TRADING|SIMULATION_MODE|MT4_ENABLED|LOAD_TESTING_ENABLED|CIRCUIT_BREAKER_THRESHOLDS_LOOSE|RISK_MULTIPLIER|COMPLIANCE_MODE|IMPROVEMENT_CYCLE_FAST|HUMAN_DELAY_SCALE|LOG_LEVEL)
        [ -n "${!key+x}" ] || export "$key=$value" ;;
    esac
  done < "$here/staging.env"

  begin_step "infrastructure, services and monitoring"
  start_args=(start --no-build)
  [ "$build_config" = release ] && start_args+=(--release)
  for s in "${scale[@]}"; do start_args+=(--scale "$s"); done
  $with_data && start_args+=(--generator --rate "${GENERATOR_RATE:-200}")
  "$stack" "${start_args[@]}" || deployment_failed $EXIT_FAILED "the native stack did not start"
  end_step ok
fi

# ---- deploy: wait for health -----------------------------------------------------------------------
begin_step "health"
deadline=$(( $(date +%s) + timeout ))
last_report=0
while :; do
  body=$(curl -s --max-time 10 -w '\n%{http_code}' http://127.0.0.1:8000/health 2>/dev/null || true)
  code=${body##*$'\n'}
  health_json=${body%$'\n'*}
  [ "$code" = 200 ] && break
  now=$(date +%s)
  if [ "$now" -ge "$deadline" ]; then deployment_failed $EXIT_FAILED "not healthy after ${timeout} s"; fi
  if [ $((now - last_report)) -ge 5 ]; then
    failing=$(printf '%s' "$health_json" | python3 -c 'import json,sys; print(", ".join(json.load(sys.stdin).get("failing", [])))' 2>/dev/null || echo "gateway not answering")
    log "waiting for health ($((deadline - now)) s left): ${failing:-starting}"
    last_report=$now
  fi
  sleep 2
done
log "healthy: every agent, PostgreSQL, the market database, Redis and Kafka"
end_step ok

# ---- deploy: checks -----------------------------------------------------------------------------------
if $skip_tests; then
  test_summary="skipped (--skip-tests)"
else
  begin_step "checks: health-check.sh"
  # Prometheus scrapes every 15 s: give new targets two rounds before calling them down.
  ok=false
  for _ in $(seq 1 12); do
    if "$repo/scripts/health-check.sh" "--$mode" --quiet >/dev/null 2>&1; then ok=true; break; fi
    sleep 5
  done
  "$repo/scripts/health-check.sh" "--$mode" || true
  $ok || deployment_failed $EXIT_TESTS "scripts/health-check.sh reports components down"
  end_step ok
  test_summary="health-check passed"
  run_reports=$reports/deploy-$stamp
  if [ "$mode" = docker ]; then
    # The tools' containers mount deployment/staging/reports and write as the image's user
    # (uid 10001): their folder is there, open to it (sticky, like /tmp).
    run_reports=$here/reports/deploy-$stamp
    mkdir -p "$run_reports"
    chmod 1777 "$run_reports"
  fi
  mkdir -p "$run_reports"

  begin_step "checks: integration tester"
  if [ "$mode" = native ]; then
    tester_ok=false
    ( eval "$(native_env)"; "$repo/.build/$build_config/tmt-integration-tester" --report-dir "$run_reports" ) && tester_ok=true
  else
    tester_ok=false
    compose --profile testing run --rm integration-tester tmt-integration-tester --report-dir "/reports/deploy-$stamp" && tester_ok=true
  fi
  tester_counts=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("{} passed, {} failed, {} skipped".format(r["passed"], r["failed"], r["skipped"]))' \
    "$run_reports/integration-report.json" 2>/dev/null || echo "no report")
  if $tester_ok; then
    test_summary+="; integration tester: $tester_counts"
    end_step ok
  else
    test_summary+="; integration tester FAILED: $tester_counts (reports in $run_reports)"
    deployment_failed $EXIT_TESTS "the integration tester failed: $tester_counts (reports in $run_reports)"
  fi

  if $quick; then
    test_summary+="; performance validator skipped (--quick)"
  else
    begin_step "checks: performance validator"
    # About 110–130 measured orders: a p95 from fewer is the second or third slowest order, and
    # passes or fails by chance (BENCHMARKS.md, section 1, session 9).
    perf_args=(--rate "${PERF_RATE:-200}" --duration "${PERF_DURATION:-30}" --signals-per-second "${PERF_SIGNALS_PER_SECOND:-6}")
    perf_ok=false
    if [ "$mode" = native ]; then
      ( eval "$(native_env)"; "$repo/.build/$build_config/tmt-performance-validator" "${perf_args[@]}" \
          --json "$run_reports/performance.json" --report-dir "$run_reports" ) && perf_ok=true
    else
      compose --profile testing run --rm performance-validator tmt-performance-validator "${perf_args[@]}" \
        --json "/reports/deploy-$stamp/performance.json" --report-dir "/reports/deploy-$stamp" && perf_ok=true
    fi
    perf_figures=$(python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))
d = f.get("signal_to_decision_ms") or {}
a = f.get("api_ms") or {}
print("signal→decision p95 {} ms, API p95 {} ms, {} MB resident, CPU {} %, {} of {} orders filled".format(d.get("p95", "n/a"), a.get("p95", "n/a"), f["rss_mb_total"], f["cpu_percent_avg"], (f.get("orders_by_status") or {}).get("filled", 0), f.get("orders", 0)))
' "$run_reports/performance.json" 2>/dev/null || echo "no figures")
    if $perf_ok; then
      test_summary+="; performance validator: SLAs met ($perf_figures)"
      end_step ok
    else
      test_summary+="; performance validator FAILED ($perf_figures; reports in $run_reports)"
      deployment_failed $EXIT_TESTS "the performance validator reports a failed check (an SLA breach, orders left unsettled, or none filled) or could not run: $perf_figures (reports in $run_reports)"
    fi
  fi
fi

# ---- done ----------------------------------------------------------------------------------------------
health_json=$(curl -s --max-time 10 http://127.0.0.1:8000/health 2>/dev/null || echo "$health_json")
write_report "deployed" "in $(( $(date +%s) - started_at )) s"
token_file=$state/secrets/api-token
[ "$mode" = docker ] && token_file=$secrets/api_token
cat <<ACCESS

TMT Staging is running ($mode). Access points:
  Trading Dashboard     http://127.0.0.1:3000
  API gateway           http://127.0.0.1:8000   (docs/api/openapi.yaml; token in $token_file)
  Aggregated health     curl -s http://127.0.0.1:8000/health
  Prometheus            http://127.0.0.1:9091
  Alertmanager          http://127.0.0.1:9094
ACCESS
if [ "$mode" = docker ]; then
  cat <<ACCESS
  Grafana               http://127.0.0.1:3001   (admin / the password in $secrets/grafana_admin_password)
  pgAdmin               http://127.0.0.1:5051
  Kafka UI              http://127.0.0.1:8081
  Redis Commander       http://127.0.0.1:8082
  PostgreSQL            127.0.0.1:5433 trading_staging, 127.0.0.1:5434 market_data_staging
ACCESS
else
  cat <<ACCESS
  PostgreSQL            127.0.0.1:5433 trading_staging, 127.0.0.1:5434 market_data_staging
  Kafka (dev broker)    $(cat "$state/test-services/kafka.bootstrap" 2>/dev/null)  (random port; see --env)
  Grafana, pgAdmin, Kafka UI, Redis Commander: Docker mode only
ACCESS
fi
cat <<ACCESS
  Redis                 127.0.0.1:6380
  Join from a shell     eval "\$($here/deploy-staging.sh --env)"
  Stop                  $here/deploy-staging.sh --stop
ACCESS
exit $EXIT_OK
