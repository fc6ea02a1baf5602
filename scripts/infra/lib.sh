#!/usr/bin/env bash
# Shared helpers for the infra scripts: state under .infra/ at the repository root, PID files,
# bounded waits. Every script stops only the process whose PID it recorded itself.
set -euo pipefail
INFRA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INFRA_STATE="$INFRA_ROOT/.infra"
INFRA_CACHE="${PARLEY_INFRA_CACHE:-$HOME/.cache/parley}"
mkdir -p "$INFRA_STATE" "$INFRA_CACHE"

infra_log() { printf '[infra %s] %s\n' "$1" "$2" >&2; }

# is_running NAME: the PID in .infra/NAME/pid is alive.
is_running() {
  local pidfile="$INFRA_STATE/$1/pid"
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# wait_for_port HOST PORT SECONDS
wait_for_port() {
  local host="$1" port="$2" seconds="$3" i
  for ((i = 0; i < seconds * 10; i++)); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# start_daemon NAME LOGFILE COMMAND...: runs COMMAND in the background, records its PID.
start_daemon() {
  local name="$1" logfile="$2"
  shift 2
  mkdir -p "$INFRA_STATE/$name"
  nohup "$@" >"$logfile" 2>&1 &
  echo $! >"$INFRA_STATE/$name/pid"
}

# stop_daemon NAME: TERM the recorded PID, wait up to 20 s, then KILL it. Only that PID.
stop_daemon() {
  local name="$1" pidfile="$INFRA_STATE/$1/pid" pid i
  if [ ! -f "$pidfile" ]; then return 0; fi
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      infra_log "$name" "did not stop within 20 s; killing PID $pid"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# apt_install PACKAGE...: installs Debian packages not yet present (root on Debian).
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    # "install ok installed" only: a removed package keeps a dpkg record with its config files.
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  infra_log apt "installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
