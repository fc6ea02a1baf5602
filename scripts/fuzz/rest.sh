#!/usr/bin/env bash
# Fuzzes decision-api's REST API from its own OpenAPI document with schemathesis (from PyPI,
# installed into a cached virtualenv on first use). Usage:
#   scripts/fuzz/rest.sh <base-url> <api-key> [schemathesis run options...]
#   scripts/fuzz/rest.sh --install      (only installs the virtualenv)
# Exits with schemathesis's code: 0 when no check failed.
set -euo pipefail
venv="${PARLEY_INFRA_CACHE:-$HOME/.cache/parley}/schemathesis-4.32.5"
if [ ! -x "$venv/bin/st" ]; then
  # Debian splits venv's pip bootstrap (ensurepip) into python3-venv; a fresh machine lacks it.
  if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    # shellcheck source=../infra/lib.sh
    . "$(dirname "$0")/../infra/lib.sh"
    apt_install python3 python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
if [ "${1:-}" = "--install" ]; then exit 0; fi
base="${1:?base URL}"
key="${2:?API key}"
shift 2
cd "$(mktemp -d)"
exec "$venv/bin/st" run "$base/docs-json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error \
  --workers 2 \
  --generation-deterministic \
  --no-color \
  "$@"
