#!/usr/bin/env bash
# Debian's etcd-server, for the benchmark that runs Parley and etcd side by side
# (npm run bench). Installs it when missing; the benchmark starts and stops its own members.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=lib.sh
. ./lib.sh
if ! command -v etcd >/dev/null; then
  apt_install etcd-server
fi
