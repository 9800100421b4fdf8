#!/usr/bin/env bash
# The project's test command: builds the package and its tests, starts the throwaway test
# services (PostgreSQL, Redis, the Kafka dev broker), runs every XCTest, and stops the services
# again (unless they were already running before, or --keep-services is given).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
  cat <<'USAGE'
Usage: scripts/run-tests.sh [--unit] [--keep-services] [-- SWIFT_TEST_ARGS...]

Builds TMT Staging with its tests, starts the test services (scripts/test-services.sh),
runs `swift test`, and stops the services it started.

  --unit            unit tests only (TMTCoreTests, TMTTradingTests); no services needed or started
  --keep-services   leave the test services running afterwards (faster re-runs)
  -- ARGS           passed to `swift test`, e.g. `-- --filter PostgresPoolTests`
  --help            this text

Exit code: that of `swift test` (0 when every test passed), or 1 when a step before it failed.
USAGE
}

unit=false
keep=false
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --unit) unit=true ;;
    --keep-services) keep=true ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run-tests: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

cd "$repo"
step() { echo "==> $*"; }

step "building (debug, with tests)"
swift build --build-tests

if $unit; then
  step "running unit tests"
  exec swift test --skip-build --disable-swift-testing --filter 'TMTCoreTests|TMTTradingTests' "${extra[@]}"
fi

started=false
if ! "$here/test-services.sh" status >/dev/null 2>&1; then
  step "starting test services"
  "$here/test-services.sh" start
  started=true
else
  step "test services already running; leaving them as they are"
fi
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  if $started && ! $keep; then step "stopping test services"; "$here/test-services.sh" stop; fi
}
trap cleanup EXIT

step "running tests"
set +e
# XCTest only: the project has no Swift Testing tests, and its empty summary line would follow
# XCTest's and read as "0 tests".
swift test --skip-build --disable-swift-testing "${extra[@]}"
rc=$?
set -e
exit $rc
