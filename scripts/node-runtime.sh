#!/usr/bin/env bash
# Source this file to run on the Node.js release line Parley supports (24 LTS).
#
# When the `node` on PATH is older, it says so and, unless PARLEY_NODE_AUTO=0, puts a pinned
# Node 24 first on PATH: the official binary as the npm registry ships it (the package
# node-linux-<arch>), unpacked once into ~/.cache/parley. npm itself is the machine's; it runs on
# whichever `node` comes first on PATH, so from here on both npm and every script use Node 24.
# With PARLEY_NODE_AUTO=0 it only tells what to install and fails.
PARLEY_NODE_MAJOR_MIN=24
PARLEY_NODE_PINNED=24.22.3

parley_node_major() { node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }

parley_use_node() {
  local major cache arch dir tarball
  major="$(parley_node_major)"
  if [ -n "$major" ] && [ "$major" -ge "$PARLEY_NODE_MAJOR_MIN" ]; then return 0; fi
  local found="no node"
  [ -n "$major" ] && found="Node $major"
  echo "[node] found $found on PATH; Parley needs Node $PARLEY_NODE_MAJOR_MIN LTS or newer" >&2
  if [ "${PARLEY_NODE_AUTO:-1}" = 0 ]; then
    echo "[node] install Node.js $PARLEY_NODE_MAJOR_MIN LTS (for example the nodejs package of your distribution's Node 24 repository, or nvm install 24), then run again" >&2
    return 1
  fi
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "[node] no packaged Node for $(uname -m): install Node.js $PARLEY_NODE_MAJOR_MIN LTS by hand" >&2; return 1 ;;
  esac
  cache="${PARLEY_INFRA_CACHE:-$HOME/.cache/parley}"
  dir="$cache/node-$PARLEY_NODE_PINNED-linux-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    command -v npm >/dev/null || { echo "[node] npm is needed to fetch Node $PARLEY_NODE_PINNED" >&2; return 1; }
    echo "[node] fetching Node $PARLEY_NODE_PINNED (package node-linux-$arch) into $dir" >&2
    local work
    work="$(mktemp -d)"
    tarball="$(cd "$work" && npm pack --silent "node-linux-$arch@$PARLEY_NODE_PINNED")"
    mkdir -p "$work/unpacked"
    tar -xzf "$work/$tarball" -C "$work/unpacked"
    rm -rf "$dir" && mkdir -p "$(dirname "$dir")"
    mv "$work/unpacked/package" "$dir"
    rm -rf "$work"
  fi
  export PATH="$dir/bin:$PATH"
  hash -r
  echo "[node] using $(node --version) from $dir" >&2
}
