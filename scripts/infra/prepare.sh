#!/usr/bin/env bash
# Installs, downloads and builds everything the integration and e2e tiers need, without starting
# anything: NATS (apt), Kafka's jars (mvn), the S3 server (Go build), Chromium (apt) and the REST
# fuzz's schemathesis (venv). Idempotent and cached (~/.cache/parley). The test command runs it in
# the background beside the unit tier, whose single jest worker leaves the second core idle.
source "$(dirname "$0")/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
for step in "nats.sh prepare" "kafka.sh prepare" "s3.sh prepare" "browser.sh" "../fuzz/rest.sh --install"; do
  started=$(date +%s)
  # shellcheck disable=SC2086
  bash "$HERE"/$step >/dev/null
  infra_log prepare "$step: done in $(( $(date +%s) - started ))s"
done
