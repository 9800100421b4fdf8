#!/usr/bin/env bash
# Throwaway services for the integration tests: a PostgreSQL cluster (trading and market
# databases), Redis, and the librdkafka mock broker (tmt-kafka-dev-broker), all on loopback,
# all under one state folder. Re-runnable; `stop` leaves nothing running.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
state=${TMT_STATE_DIR:-$repo/.state}/test-services
pg_port=${TMT_TEST_PG_PORT:-15433}
# The market database in a cluster of its own on this port (the native stack: 5434, as compose's
# TimescaleDB); by default it shares the trading cluster.
market_port=${TMT_TEST_MARKET_PG_PORT:-$pg_port}
redis_port=${TMT_TEST_REDIS_PORT:-16380}
pg_bin=${TMT_PG_BIN:-$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)}
broker_bin=${TMT_BROKER_BIN:-$repo/.build/debug/tmt-kafka-dev-broker}
# Durable (scripts/stack.sh, the native staging stack): PostgreSQL syncs its WAL at every commit
# and Redis snapshots as compose's does, so a killed database or Redis loses nothing an agent has
# acknowledged. Otherwise (the tests' throwaway services) both skip syncing for speed.
durable=${TMT_DURABLE:-0}
trading_pw=trading_test_password
market_pw=timescale_test_password

usage() {
  cat <<USAGE
Usage: scripts/test-services.sh start|stop|status|restart-postgres|restart-redis|stop-redis|start-redis|env|--help

Runs the services the integration tests need, on loopback, under $state:
  PostgreSQL  127.0.0.1:$pg_port  trading_staging (trading_user); market_data_staging (timescale_user) on $market_port
  Redis       127.0.0.1:$redis_port  (no persistence)
  Kafka       librdkafka mock cluster via tmt-kafka-dev-broker (memory-only, random port;
              the bootstrap address is written to $state/kafka.bootstrap; a second mock cluster
              for market.ticks alone to $state/kafka-market.bootstrap, which scripts/stack.sh
              passes to the agents as KAFKA_MARKET_BOOTSTRAP_FILE)

  start             start whatever is not running (builds the broker if needed); idempotent
  stop              stop everything this script started; idempotent
  status            one line per service; exit 1 if any is down
  restart-postgres  pg_ctl restart (used by the reconnect tests)
  restart-redis     stop and start Redis (used by the reconnect tests)
  stop-redis, start-redis   one half of that (backup-staging.sh --restore loads a snapshot between)
  env               print the variables the tests read (also written to $state/env)

Environment: TMT_STATE_DIR (default $repo/.state), TMT_TEST_PG_PORT, TMT_TEST_MARKET_PG_PORT
(a second cluster for the market database when it differs), TMT_TEST_REDIS_PORT,
TMT_BROKER_BIN (default .build/debug/tmt-kafka-dev-broker), TMT_DURABLE (default 0: PostgreSQL
without fsync and synchronous commit, Redis without snapshots, for throwaway test data; 1, as
scripts/stack.sh sets it: PostgreSQL durable at every commit, Redis snapshots as compose's).
USAGE
}

log() { echo "test-services: $*"; }
die() { echo "test-services: error: $*" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

separate_market() { [ "$market_port" != "$pg_port" ]; }
cluster_running() { [ -f "$state/$1/data/postmaster.pid" ] && as_postgres "$pg_bin/pg_ctl" -D "$state/$1/data" status >/dev/null 2>&1; }
pg_running() { cluster_running pg && { ! separate_market || cluster_running pg-market; }; }
redis_running() { [ -f "$state/redis/redis.pid" ] && kill -0 "$(cat "$state/redis/redis.pid")" 2>/dev/null; }
broker_running() { [ -f "$state/kafka/broker.pid" ] && kill -0 "$(cat "$state/kafka/broker.pid")" 2>/dev/null; }

write_env() {
  cat > "$state/env" <<ENV
TMT_TEST_POSTGRES_URL=postgresql://trading_user:$trading_pw@127.0.0.1:$pg_port/trading_staging
TMT_TEST_MARKET_DB_URL=postgresql://timescale_user:$market_pw@127.0.0.1:$market_port/market_data_staging
TMT_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0
TMT_TEST_KAFKA_BOOTSTRAP_FILE=$state/kafka.bootstrap
TMT_TEST_KAFKA_MARKET_BOOTSTRAP_FILE=$state/kafka-market.bootstrap
TMT_TEST_SERVICES_SCRIPT=$here/test-services.sh
ENV
}

start_cluster() { # name port provisioning-sql
  local name=$1 port=$2 sql=$3 dir=$state/$1
  if cluster_running "$name"; then log "postgres ($name) already running on $port (durability as it was started with)"; return; fi
  [ -x "$pg_bin/initdb" ] || die "PostgreSQL server binaries not found (run scripts/install-deps.sh)"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    # The postgres user must be able to reach the state folder.
    as_postgres test -x "$dir" || die "user postgres cannot reach $state; set TMT_STATE_DIR to a world-traversable folder"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "initialising PostgreSQL cluster in $dir/data"
    as_postgres "$pg_bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
CONF
  fi
  # Command-line settings override postgresql.conf's, so one cluster can start either way.
  local opts="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" mode="no fsync"
  [ "$durable" = 1 ] && { opts="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"; mode="durable"; }
  log "starting PostgreSQL ($name, $mode) on 127.0.0.1:$port"
  as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "$opts" -w -t 60 start >/dev/null \
    || { tail -20 "$dir/postgres.log" >&2; die "PostgreSQL ($name) did not start"; }
  if [ ! -f "$dir/.provisioned" ]; then
    as_postgres psql -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q <<<"$sql"
    touch "$dir/.provisioned"
  fi
}

start_pg() {
  local trading="CREATE ROLE trading_user LOGIN CREATEDB PASSWORD '$trading_pw';
CREATE DATABASE trading_staging OWNER trading_user;"
  local market="CREATE ROLE timescale_user LOGIN CREATEDB PASSWORD '$market_pw';
CREATE DATABASE market_data_staging OWNER timescale_user;"
  if separate_market; then
    start_cluster pg "$pg_port" "$trading"
    start_cluster pg-market "$market_port" "$market"
  else
    start_cluster pg "$pg_port" "$trading"$'\n'"$market"
  fi
}

stop_pg() {
  local name
  for name in pg-market pg; do
    if cluster_running "$name"; then
      log "stopping PostgreSQL ($name)"
      as_postgres "$pg_bin/pg_ctl" -D "$state/$name/data" -m fast -w -t 60 stop >/dev/null
    fi
  done
}

start_redis() {
  if redis_running; then log "redis already running on $redis_port"; return; fi
  command -v redis-server >/dev/null || die "redis-server not found (run scripts/install-deps.sh)"
  mkdir -p "$state/redis"
  local save=(--save "")
  [ "$durable" = 1 ] && save=(--save 60 1000 --save 300 10) # as compose's Redis
  log "starting Redis on 127.0.0.1:$redis_port${save[1]:+ (snapshots: ${save[*]})}"
  redis-server --bind 127.0.0.1 --port "$redis_port" "${save[@]}" --appendonly no \
    --dir "$state/redis" --pidfile "$state/redis/redis.pid" --logfile "$state/redis/redis.log" --daemonize yes
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG && return
    sleep 0.1
  done
  die "Redis did not answer PING"
}

stop_redis() {
  if redis_running; then
    log "stopping Redis"
    local pid; pid=$(cat "$state/redis/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$state/redis/redis.pid"
}

start_broker() {
  if broker_running; then log "kafka dev broker already running at $(cat "$state/kafka.bootstrap" 2>/dev/null)"; return; fi
  if [ ! -x "$broker_bin" ]; then
    log "building tmt-kafka-dev-broker"
    (cd "$repo" && swift build --product tmt-kafka-dev-broker) >"$state/broker-build.log" 2>&1 \
      || { tail -30 "$state/broker-build.log" >&2; die "could not build tmt-kafka-dev-broker"; }
  fi
  mkdir -p "$state/kafka"
  rm -f "$state/kafka.bootstrap" "$state/kafka-market.bootstrap"
  log "starting Kafka dev broker (librdkafka mock cluster; market.ticks also on a second one)"
  nohup "$broker_bin" --bootstrap-file "$state/kafka.bootstrap" --market-bootstrap-file "$state/kafka-market.bootstrap" \
    >"$state/kafka/broker.log" 2>&1 &
  echo $! > "$state/kafka/broker.pid"
  for _ in $(seq 1 100); do
    [ -s "$state/kafka.bootstrap" ] && { log "kafka at $(cat "$state/kafka.bootstrap"), market data at $(cat "$state/kafka-market.bootstrap" 2>/dev/null)"; return; }
    broker_running || { tail -20 "$state/kafka/broker.log" >&2; die "broker exited"; }
    sleep 0.1
  done
  die "broker did not write $state/kafka.bootstrap"
}

stop_broker() {
  if broker_running; then
    log "stopping Kafka dev broker"
    local pid; pid=$(cat "$state/kafka/broker.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/kafka/broker.pid" "$state/kafka.bootstrap" "$state/kafka-market.bootstrap"
}

status() {
  local rc=0
  if cluster_running pg; then echo "postgres  up    127.0.0.1:$pg_port"; else echo "postgres  down"; rc=1; fi
  if separate_market; then
    if cluster_running pg-market; then echo "market-db up    127.0.0.1:$market_port"; else echo "market-db down"; rc=1; fi
  fi
  if redis_running; then echo "redis     up    127.0.0.1:$redis_port"; else echo "redis     down"; rc=1; fi
  if broker_running; then echo "kafka     up    $(cat "$state/kafka.bootstrap" 2>/dev/null) (market data $(cat "$state/kafka-market.bootstrap" 2>/dev/null || echo -))"; else echo "kafka     down"; rc=1; fi
  return $rc
}

# The daemons started below must not inherit our caller's descriptors: a test runner that waits
# for this script (Foundation's Process watches a socket pair) would otherwise wait for the
# daemons to exit too.
for fd_path in /proc/"$$"/fd/*; do
  fd=${fd_path##*/}
  if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

cmd=${1:-}
case "$cmd" in
  start)
    mkdir -p "$state"
    [ "$(id -u)" -ne 0 ] || chmod 755 "$state" "$(dirname "$state")"
    start_pg; start_redis; start_broker; write_env
    log "ready; variables in $state/env" ;;
  stop) stop_broker; stop_redis; stop_pg; log "stopped" ;;
  status) status ;;
  restart-postgres)
    log "restarting PostgreSQL"
    as_postgres "$pg_bin/pg_ctl" -D "$state/pg/data" -l "$state/pg/postgres.log" -m fast -w -t 60 restart >/dev/null ;;
  restart-redis) stop_redis; start_redis ;;
  stop-redis) stop_redis ;;
  start-redis) mkdir -p "$state"; start_redis ;;
  env) mkdir -p "$state"; write_env; cat "$state/env" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
