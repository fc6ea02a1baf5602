#!/usr/bin/env bash
# Starts the real servers the integration tests need, on loopback: `up.sh [nats] [kafka] [s3]`
# (all three by default). Idempotent; writes the endpoints to .infra/env (sourceable).
source "$(dirname "$0")/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
servers=("$@")
[ ${#servers[@]} -eq 0 ] && servers=(nats kafka s3)
for server in "${servers[@]}"; do
  case "$server" in
    nats | kafka | s3) started=$(date +%s); bash "$HERE/$server.sh" up; infra_log "$server" "up in $(( $(date +%s) - started ))s" ;;
    *) echo "unknown server $server (nats, kafka, s3)" >&2; exit 2 ;;
  esac
done
cat >"$INFRA_STATE/env" <<ENV
NATS_URL=nats://127.0.0.1:${PARLEY_NATS_PORT:-4222}
KAFKA_BROKERS=127.0.0.1:${PARLEY_KAFKA_PORT:-9092}
S3_ENDPOINT=http://127.0.0.1:${PARLEY_S3_PORT:-9000}
S3_ACCESS_KEY_ID=${S3_ACCESS_KEY_ID:-parley}
S3_SECRET_ACCESS_KEY=${S3_SECRET_ACCESS_KEY:-parley-secret-key}
S3_REGION=us-east-1
ENV
cat "$INFRA_STATE/env"
