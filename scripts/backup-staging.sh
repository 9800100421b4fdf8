#!/usr/bin/env bash
# Backs up a running TMT Staging (both PostgreSQL databases and a Redis snapshot) into a
# timestamped folder, or restores one. Native stack or Docker Compose.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
  cat <<'USAGE'
Usage: scripts/backup-staging.sh [--native | --docker] [--dir PARENT]
       scripts/backup-staging.sh [--native | --docker] --restore BACKUP_DIR [--yes]

Backup: writes PARENT/staging-YYYYmmddTHHMMSSZ/ (PARENT default: backups/ in the repository)
  trading_staging.dump       pg_dump -Fc of the trading database
  market_data_staging.dump   pg_dump -Fc of the market-data database
  redis.rdb                  a Redis snapshot (redis-cli --rdb)
  manifest.txt               when, from where, sizes and SHA-256 sums
Restore: checks the sums, then replaces both databases' contents (pg_restore --clean) and
Redis's data (Redis restarts to load the snapshot). Stop the agents first or expect them to
see the data change under them; asks for confirmation unless --yes.

  --native | --docker   which deployment (default: Docker when the tmt-staging compose
                        project has running containers, otherwise native)
  --dir PARENT          where backups go
  --restore DIR         restore the backup in DIR
  --yes                 do not ask before restoring
Exit status: 0 done, 1 failed, 2 usage error.
USAGE
}

mode=auto parent=$repo/backups restore="" yes=false
while [ $# -gt 0 ]; do
  case "$1" in
    --native) mode=native ;;
    --docker) mode=docker ;;
    --dir) parent=${2:?--dir needs a folder}; shift ;;
    --restore) restore=${2:?--restore needs a backup folder}; shift ;;
    --yes|-y) yes=true ;;
    -h|--help) usage; exit 0 ;;
    *) echo "backup-staging: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "backup-staging: $*"; }
die() { echo "backup-staging: error: $*" >&2; exit 1; }

if [ "$mode" = auto ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 \
     && [ -n "$(docker ps -q --filter label=com.docker.compose.project=tmt-staging 2>/dev/null)" ]; then mode=docker; else mode=native; fi
fi

stack_state=${TMT_STACK_DIR:-$repo/.state/stack}
secrets=$repo/deployment/staging/secrets

# dump DB FILE / restore_db DB FILE, per mode.
if [ "$mode" = native ]; then
  env_file=$stack_state/test-services/env
  [ -f "$env_file" ] || die "the native stack is not running (no $env_file); start it with deployment/staging/deploy-staging.sh"
  # shellcheck disable=SC1090
  . "$env_file"
  url_of() { case $1 in trading_staging) echo "$TMT_TEST_POSTGRES_URL" ;; market_data_staging) echo "$TMT_TEST_MARKET_DB_URL" ;; esac; }
  dump() { pg_dump -Fc --no-owner -d "$(url_of "$1")" -f "$2"; }
  restore_db() { pg_restore --clean --if-exists --no-owner --single-transaction -d "$(url_of "$1")" "$2"; }
  redis_dir=$stack_state/test-services/redis
  redis_restore() {
    log "restarting Redis with the snapshot"
    local services=(env TMT_STATE_DIR="$stack_state" TMT_TEST_PG_PORT=5433 TMT_TEST_MARKET_PG_PORT=5434 TMT_TEST_REDIS_PORT=6380 "$here/test-services.sh")
    "${services[@]}" stop-redis >/dev/null
    cp "$1" "$redis_dir/dump.rdb"
    "${services[@]}" start-redis >/dev/null
  }
else
  container_of() { case $1 in trading_staging) echo tmt-postgres-staging ;; market_data_staging) echo tmt-timescaledb-staging ;; esac; }
  user_of() { case $1 in trading_staging) echo trading_user ;; market_data_staging) echo timescale_user ;; esac; }
  dump() { docker exec "$(container_of "$1")" pg_dump -Fc --no-owner -U "$(user_of "$1")" -d "$1" > "$2"; }
  psql_in() { docker exec "$(container_of "$1")" psql -v ON_ERROR_STOP=1 -qAt -U "$(user_of "$1")" -d "$1" -c "$2"; }
  restore_db() {
    # TimescaleDB wants its catalog restored between pre_restore and post_restore.
    local timescale
    timescale=$(psql_in "$1" "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
    [ "$timescale" = 1 ] && psql_in "$1" "SELECT timescaledb_pre_restore()" >/dev/null
    docker exec -i "$(container_of "$1")" pg_restore --clean --if-exists --no-owner -U "$(user_of "$1")" -d "$1" < "$2"
    local rc=$?
    [ "$timescale" = 1 ] && psql_in "$1" "SELECT timescaledb_post_restore()" >/dev/null
    return $rc
  }
  redis_restore() {
    log "restarting Redis with the snapshot"
    docker stop tmt-redis-staging >/dev/null
    docker cp "$1" tmt-redis-staging:/data/dump.rdb
    docker start tmt-redis-staging >/dev/null
  }
  [ -d "$secrets" ] || log "note: $secrets not found; docker exec uses the containers' local trust"
fi

# Redis through the host's redis-cli (native) or the container's (Docker: the host may have none).
redis_cli() {
  if [ "$mode" = docker ]; then docker exec tmt-redis-staging redis-cli "$@"; else redis-cli -h 127.0.0.1 -p 6380 "$@"; fi
}
redis_snapshot() {
  if [ "$mode" = docker ]; then
    redis_cli --rdb /tmp/backup.rdb >/dev/null 2>&1 && docker cp tmt-redis-staging:/tmp/backup.rdb "$1" \
      && docker exec tmt-redis-staging rm -f /tmp/backup.rdb
  else
    redis_cli --rdb "$1" >/dev/null 2>&1
  fi
}
redis_wait() {
  for _ in $(seq 1 100); do
    [ "$(redis_cli ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.2
  done
  die "Redis did not come back after the restore"
}

if [ -z "$restore" ]; then
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  out=$parent/staging-$stamp
  mkdir -p "$out"
  chmod 700 "$out"
  log "backing up ($mode) into $out"
  for db in trading_staging market_data_staging; do
    log "pg_dump $db"
    dump "$db" "$out/$db.dump" || die "pg_dump of $db failed"
  done
  log "Redis snapshot"
  redis_snapshot "$out/redis.rdb" || die "redis-cli --rdb failed"
  {
    echo "created $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "mode $mode"
    echo "host $(hostname)"
    for f in trading_staging.dump market_data_staging.dump redis.rdb; do
      echo "file $f $(stat -c %s "$out/$f") $(sha256sum "$out/$f" | cut -d' ' -f1)"
    done
  } > "$out/manifest.txt"
  log "done: $out ($(du -sh "$out" | cut -f1))"
  echo "$out"
  exit 0
fi

[ -f "$restore/manifest.txt" ] || die "$restore has no manifest.txt: not a backup of this script"
while read -r kind name _ sum; do
  [ "$kind" = file ] || continue
  [ -f "$restore/$name" ] || die "$restore/$name is missing"
  [ "$(sha256sum "$restore/$name" | cut -d' ' -f1)" = "$sum" ] || die "$restore/$name does not match its checksum"
done < "$restore/manifest.txt"
if ! $yes; then
  read -r -p "Replace the staging databases and Redis ($mode) with $restore? [y/N] " answer
  [[ $answer =~ ^[Yy] ]] || die "not confirmed; nothing changed"
fi
for db in trading_staging market_data_staging; do
  log "pg_restore $db"
  restore_db "$db" "$restore/$db.dump" || die "pg_restore of $db failed"
done
redis_restore "$restore/redis.rdb"
redis_wait
log "restored $restore"
