#!/usr/bin/env bash
# Source after lib.sh: `parley_go` prints the path of a Go command able to build modules that
# need Go $PARLEY_GO_MIN, obtained by the scripts themselves rather than whatever Go the machine
# happens to have (a fresh Debian 12 ships Go 1.19).
#
# - A `go` on PATH at $PARLEY_GO_MIN or newer is used as it is.
# - Otherwise the pinned release $PARLEY_GO_PINNED is taken from the Go module proxy as the module
#   golang.org/toolchain (the same artefact Go's own GOTOOLCHAIN switch downloads), using any Go
#   that can run `go mod download` (Debian's golang-go when there is none). Go 1.19 predates
#   GOTOOLCHAIN, so the module is fetched and unpacked explicitly instead of switched to.
# Module and build caches live in ~/.cache/parley/go, so removing ~/.cache/parley starts clean.
PARLEY_GO_MIN=1.25
PARLEY_GO_PINNED=1.26.8
export GOMODCACHE="$INFRA_CACHE/go/mod"
export GOCACHE="$INFRA_CACHE/go/build"
export GOTOOLCHAIN=local

# go_version_at_least GO_BINARY MAJOR.MINOR
go_version_at_least() {
  local have want="$2"
  have="$("$1" env GOVERSION 2>/dev/null | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')"
  [ -n "$have" ] || have="$("$1" version 2>/dev/null | sed -E 's/.* go([0-9]+\.[0-9]+).*/\1/')"
  [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}

parley_go() {
  if command -v go >/dev/null && go_version_at_least go "$PARLEY_GO_MIN"; then
    command -v go
    return 0
  fi
  local arch dir
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) infra_log go "no Go toolchain module for $(uname -m): install Go $PARLEY_GO_MIN or newer" ; return 1 ;;
  esac
  dir="$INFRA_CACHE/go-$PARLEY_GO_PINNED-linux-$arch"
  if [ ! -x "$dir/bin/go" ]; then
    local bootstrap
    bootstrap="$(command -v go || true)"
    if [ -z "$bootstrap" ]; then
      apt_install golang-go
      bootstrap="$(command -v go)"
    fi
    infra_log go "fetching Go $PARLEY_GO_PINNED (module golang.org/toolchain) with $("$bootstrap" version | cut -d' ' -f3)"
    local module="golang.org/toolchain@v0.0.1-go$PARLEY_GO_PINNED.linux-$arch" source
    source="$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod "$bootstrap" mod download -json "$module" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    if [ -z "$source" ] || [ ! -f "$source/bin/go" ]; then
      infra_log go "could not fetch $module"
      return 1
    fi
    rm -rf "$dir.tmp" && cp -r "$source" "$dir.tmp"
    # Module zips carry no file modes: the toolchain's programs need their execute bits back.
    chmod -R u+w "$dir.tmp"
    chmod +x "$dir.tmp"/bin/* "$dir.tmp"/pkg/tool/*/*
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/bin/go"
}
