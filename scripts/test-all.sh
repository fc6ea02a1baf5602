#!/usr/bin/env bash
# The one command that runs every test tier on a fresh machine (README: `npm test`).
# Installs what it needs (npm ci; the infra scripts install NATS, Kafka and S3), starts the
# real servers on loopback, runs unit, integration and e2e tiers, stops only what it started,
# and prints one summary line: "Tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
RESULTS="$ROOT/.test-results"
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
started=$(date +%s)

log() { printf '[test-all %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

# Node 24 LTS first: says what it found and, when the machine's node is older, runs on a pinned
# Node 24 it keeps in ~/.cache/parley (PARLEY_NODE_AUTO=0: only say what to install).
# shellcheck source=node-runtime.sh
. "$ROOT/scripts/node-runtime.sh"
parley_use_node
log "node $(node --version), npm $(npm --version)"

if [ ! -d node_modules ] || [ "${CI:-}" = "true" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

log "build (type check and emit)"
npm run --silent build
log "lint"
npm run --silent lint

infra_started=0
stop_infra() {
  if [ "$infra_started" = 1 ]; then
    log "stopping the servers this run started"
    bash scripts/infra/down.sh || true
  fi
}
trap stop_infra EXIT

status=0
run_tier() {
  local tier="$1"
  shift
  log "tier: $tier"
  if ! npx jest --selectProjects "$tier" --json --outputFile="$RESULTS/$tier.json" "$@"; then
    status=1
  fi
}

# Fetching and building the servers (Kafka's jars, the S3 server's Go build, Chromium, the REST
# fuzz's virtualenv) runs beside the unit tier: jest gives that tier one worker on two cores.
log "preparing the servers in the background (log: .test-results/prepare.log)"
bash scripts/infra/prepare.sh >"$RESULTS/prepare.log" 2>&1 &
prepare_pid=$!

run_tier unit
log "waiting for the servers' preparation"
if ! wait "$prepare_pid"; then
  log "preparing the servers failed; its log follows"
  cat "$RESULTS/prepare.log"
  exit 1
fi
grep -h 'prepare' "$RESULTS/prepare.log" || true
log "starting NATS, Kafka and the S3-compatible server on loopback"
infra_started=1
bash scripts/infra/up.sh
set -a
# shellcheck disable=SC1091
. "$ROOT/.infra/env"
set +a
run_tier integration --runInBand
run_tier e2e --runInBand

# The summary's "Tests: N passed, N failed" must be the very last line CI prints, so the
# servers are stopped (and the trap disarmed) before it is written.
stop_infra
infra_started=0
log "done in $(( $(date +%s) - started ))s"
node scripts/test-summary.js "$RESULTS" || status=1
exit "$status"
