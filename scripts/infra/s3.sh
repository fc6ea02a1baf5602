#!/usr/bin/env bash
# The S3-compatible server for integration tests: Versity S3 Gateway (versitygw, Apache-2.0,
# maintained) over a local directory, built from the Go module proxy and listening on
# 127.0.0.1:9000. The binary is cached in ~/.cache/parley by version, so only the first run
# builds it; the Go toolchain the build needs comes from go-toolchain.sh.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/go-toolchain.sh"
NAME=s3
DIR="$INFRA_STATE/$NAME"
VERSITYGW_MODULE=github.com/versity/versitygw/cmd/versitygw
VERSITYGW_VERSION=v1.8.0
BIN_DIR="$INFRA_CACHE/versitygw-$VERSITYGW_VERSION"
PORT="${PARLEY_S3_PORT:-9000}"
export ROOT_ACCESS_KEY_ID="${S3_ACCESS_KEY_ID:-parley}"
export ROOT_SECRET_ACCESS_KEY="${S3_SECRET_ACCESS_KEY:-parley-secret-key}"

build() {
  if [ -x "$BIN_DIR/versitygw" ]; then return 0; fi
  local go
  go="$(parley_go)"
  infra_log "$NAME" "building versitygw $VERSITYGW_VERSION with $("$go" version | cut -d' ' -f3) (first run only)"
  mkdir -p "$BIN_DIR"
  GOBIN="$BIN_DIR" GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
    env -u GOROOT "$go" install -trimpath -ldflags=-s "$VERSITYGW_MODULE@$VERSITYGW_VERSION" >&2
}

up() {
  if is_running "$NAME"; then infra_log "$NAME" "already running (PID $(cat "$DIR/pid"))"; return 0; fi
  build
  mkdir -p "$DIR/data"
  start_daemon "$NAME" "$DIR/versitygw.log" \
    "$BIN_DIR/versitygw" --port "127.0.0.1:$PORT" --health /health --quiet posix "$DIR/data"
  local i
  for ((i = 0; i < 600; i++)); do
    if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
      infra_log "$NAME" "ready on 127.0.0.1:$PORT (versitygw $VERSITYGW_VERSION)"
      return 0
    fi
    is_running "$NAME" || break
    sleep 0.1
  done
  infra_log "$NAME" "did not become ready; log follows"
  tail -20 "$DIR/versitygw.log" >&2
  return 1
}

case "${1:-up}" in
  up) up ;;
  prepare | build) build ;;
  down) stop_daemon "$NAME" ;;
  status) if is_running "$NAME"; then echo running; else echo stopped; fi ;;
  *) echo "usage: $0 up|prepare|down|status" >&2; exit 2 ;;
esac
