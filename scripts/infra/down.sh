#!/usr/bin/env bash
# Stops the servers up.sh started (by their recorded PIDs only). A no-op when none runs.
source "$(dirname "$0")/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
for server in s3 kafka nats; do bash "$HERE/$server.sh" down; done
