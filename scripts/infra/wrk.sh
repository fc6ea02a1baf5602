#!/usr/bin/env bash
# Debian's wrk, the compiled HTTP load generator the benchmarks drive Parley and etcd with
# (a node:http generator costs about three times its CPU per request on the same cores).
# Installs it when missing; prints its path.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=lib.sh
. ./lib.sh
if ! command -v wrk >/dev/null; then
  apt_install wrk
fi
command -v wrk
