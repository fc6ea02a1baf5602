#!/usr/bin/env bash
# MinIO, built from the Go module proxy with the Go toolchain, on 127.0.0.1:9000.
# The binary is cached in ~/.cache/parley by version, so only the first run builds it.
source "$(dirname "$0")/lib.sh"
NAME=s3
DIR="$INFRA_STATE/$NAME"
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
BIN_DIR="$INFRA_CACHE/minio-$MINIO_VERSION"
PORT="${PARLEY_S3_PORT:-9000}"
export MINIO_ROOT_USER="${S3_ACCESS_KEY_ID:-parley}"
export MINIO_ROOT_PASSWORD="${S3_SECRET_ACCESS_KEY:-parley-secret-key}"

build() {
  if [ -x "$BIN_DIR/minio" ]; then return 0; fi
  command -v go >/dev/null || apt_install golang-go
  infra_log "$NAME" "building MinIO $MINIO_VERSION with $(go version | cut -d' ' -f3) (first run only)"
  mkdir -p "$BIN_DIR"
  GOBIN="$BIN_DIR" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "$MINIO_MODULE@$MINIO_VERSION" >&2
}

up() {
  if is_running "$NAME"; then infra_log "$NAME" "already running (PID $(cat "$DIR/pid"))"; return 0; fi
  build
  mkdir -p "$DIR/data"
  MINIO_BROWSER=off MINIO_UPDATE=off start_daemon "$NAME" "$DIR/minio.log" \
    "$BIN_DIR/minio" server "$DIR/data" --address "127.0.0.1:$PORT" --quiet
  local i
  for ((i = 0; i < 600; i++)); do
    if curl -fsS "http://127.0.0.1:$PORT/minio/health/live" >/dev/null 2>&1; then
      infra_log "$NAME" "ready on 127.0.0.1:$PORT (MinIO $MINIO_VERSION)"
      return 0
    fi
    is_running "$NAME" || break
    sleep 0.1
  done
  infra_log "$NAME" "did not become ready; log follows"
  tail -20 "$DIR/minio.log" >&2
  return 1
}

case "${1:-up}" in
  up) up ;;
  down) stop_daemon "$NAME" ;;
  status) if is_running "$NAME"; then echo running; else echo stopped; fi ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
