#!/usr/bin/env bash
# Builds the ACME test server that the "own domain" tests run on the host: Pebble
# (the ACME server Let's Encrypt publishes for testing clients) and
# pebble-challtestsrv (its programmable DNS server), both from the Go module
# github.com/letsencrypt/pebble/v2 at the version pinned below.
#
# Usage: test/engine/build-acme.sh
#
# The binaries are cached, keyed by the Pebble version and the recipe number, in
# ${JUPYTERLAB_DROPLET_CACHE:-$HOME/.cache/jupyterlab-droplet}/acme/pebble-VERSION-rRECIPE;
# GOPATH and the Go module and build caches live under .../acme too. A run with
# both binaries cached builds nothing. The last line on stdout is that directory
# (pass it as binDir to startAcmeServer in test/engine/acme-server.ts);
# progress, with the wall time, goes to stderr.
#
# Pebble's go.mod asks for a newer Go than some machines have: GOTOOLCHAIN=auto
# then fetches that Go toolchain as a module (golang.org/toolchain) through the
# Go module proxy, into the module cache here. With a new enough Go nothing is
# fetched.
set -euo pipefail

PEBBLE_VERSION=v2.10.3
# Bump when the build recipe changes in a way that must rebuild the binaries.
RECIPE=1

module=github.com/letsencrypt/pebble/v2
binaries=(pebble pebble-challtestsrv)
cache="${JUPYTERLAB_DROPLET_CACHE:-$HOME/.cache/jupyterlab-droplet}"
acme="$cache/acme"
out="$acme/pebble-$PEBBLE_VERSION-r$RECIPE"

log() { printf '[build-acme] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

for arg in "$@"; do
  case "$arg" in
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
      exit 0
      ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done

command -v go >/dev/null || die "the go command is not on PATH"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# all_built DIR: whether DIR holds every binary, executable.
all_built() {
  local b
  for b in "${binaries[@]}"; do
    [[ -x "$1/$b" ]] || return 1
  done
}

start=$(now)
if all_built "$out"; then
  log "pebble $PEBBLE_VERSION recipe $RECIPE: cached ($(elapsed "$start") s) in $out"
  printf '%s\n' "$out"
  exit 0
fi

mkdir -p "$acme"
export GOPATH="$acme/gopath"
export GOMODCACHE="$acme/gomod"
export GOCACHE="$acme/gocache"
export GOFLAGS="-buildvcs=false"
export CGO_ENABLED=0
# The machine's Go when it is new enough for Pebble's go.mod, else the one it
# names, fetched through the module proxy (the machine may say GOTOOLCHAIN=local).
export GOTOOLCHAIN=auto

# One build at a time, also across concurrent runs of this script.
exec 9>"$acme/.lock"
if command -v flock >/dev/null; then
  flock 9
fi
if all_built "$out"; then
  log "pebble $PEBBLE_VERSION: built meanwhile by another run, in $out"
  printf '%s\n' "$out"
  exit 0
fi

log "pebble $PEBBLE_VERSION recipe $RECIPE: building with $(go version) ..."
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
packages=()
for b in "${binaries[@]}"; do
  packages+=("$module/cmd/$b@$PEBBLE_VERSION")
done
# go install with a version builds against the module's own go.mod and go.sum,
# whatever module the current directory is in; GOBIN puts both binaries in one
# fresh directory.
if ! (cd "$acme" && GOBIN="$out.tmp" go install -trimpath \
  -ldflags "-s -w -X main.version=$PEBBLE_VERSION" "${packages[@]}") >&2; then
  die "step 'go install ${packages[*]}' failed after $(elapsed "$start") s"
fi
all_built "$out.tmp" || die "go install left no ${binaries[*]} in $out.tmp"
reported=$("$out.tmp/pebble" -version) || die "the built pebble does not run"
log "pebble -version: $reported"
rm -rf "$out"
mv "$out.tmp" "$out"
log "pebble $PEBBLE_VERSION recipe $RECIPE: built in $(elapsed "$start") s -> $out ($(du -sh "$out" | cut -f1))"
printf '%s\n' "$out"
