#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser test (driven by playwright-core, which brings no
# browser of its own). Installs it when missing; prints its path.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=lib.sh
. ./lib.sh
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
/usr/bin/chromium --version >/dev/null
echo /usr/bin/chromium
