#!/usr/bin/env bash
# NATS with JetStream from Debian's nats-server package, on 127.0.0.1:4222 (monitoring :8222).
# NATS_VERSION is the release Debian 12 ships; docker-compose.yml pins the same one.
source "$(dirname "$0")/lib.sh"
NAME=nats
NATS_VERSION=2.9.10
PORT="${PARLEY_NATS_PORT:-4222}"
MONITOR_PORT="${PARLEY_NATS_MONITOR_PORT:-8222}"
DIR="$INFRA_STATE/$NAME"

install() {
  command -v nats-server >/dev/null || apt_install nats-server
  if ! nats-server --version | grep -q "v$NATS_VERSION\b"; then
    infra_log "$NAME" "warning: $(nats-server --version) is not the pinned $NATS_VERSION that compose runs"
  fi
}

up() {
  if is_running "$NAME"; then infra_log "$NAME" "already running (PID $(cat "$DIR/pid"))"; return 0; fi
  install
  mkdir -p "$DIR/jetstream"
  start_daemon "$NAME" "$DIR/nats.log" nats-server -js -a 127.0.0.1 -p "$PORT" -m "$MONITOR_PORT" -sd "$DIR/jetstream"
  local i
  for ((i = 0; i < 150; i++)); do
    if curl -fsS "http://127.0.0.1:$MONITOR_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1; then
      infra_log "$NAME" "ready on 127.0.0.1:$PORT ($(nats-server --version))"
      return 0
    fi
    is_running "$NAME" || break
    sleep 0.1
  done
  infra_log "$NAME" "did not become ready; log follows"
  tail -20 "$DIR/nats.log" >&2
  return 1
}

case "${1:-up}" in
  up) up ;;
  prepare) install ;;
  down) stop_daemon "$NAME" ;;
  status) if is_running "$NAME"; then echo running; else echo stopped; fi ;;
  *) echo "usage: $0 up|prepare|down|status" >&2; exit 2 ;;
esac
