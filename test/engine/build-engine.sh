#!/usr/bin/env bash
# Builds the Pulumi engine that the project's tests run, at the versions that
# package-lock.json pins for the npm SDKs: the `pulumi` CLI from its Go modules,
# and the Node.js language host and the real DigitalOcean, command, random and
# tls provider plugins from the upstream source tarballs in
# ${JUPYTERLAB_DROPLET_UPSTREAM_SRC:-../shared/upstream-src} (checked against its SHA256SUMS).
#
# Usage: test/engine/build-engine.sh [--allow-missing] [BINARY...]
#   BINARY: pulumi, pulumi-language-nodejs, pulumi-resource-command,
#           pulumi-resource-tls, pulumi-resource-random,
#           pulumi-resource-digitalocean (default: all of them)
#   --allow-missing: report binaries that cannot be built, but still populate
#           the bin directory with the others and exit 0.
#
# Where a released plugin of the pinned version is installed already
# (${PULUMI_HOME:-~/.pulumi}/plugins, what `pulumi plugin ls` lists), that one is
# used and nothing is built for it. The tests run this script with a PULUMI_HOME
# of their own (buildEngineEnvironment in test/engine/pulumi-cli.ts), so that
# what a user once installed never changes what they build or refuse; they keep
# HOME, and with it the engine cache below.
#
# Every binary is cached, keyed by its version, its source tarball's checksum
# and a hash of the recipe that builds it, in ${JUPYTERLAB_DROPLET_CACHE:-$HOME/.cache/jupyterlab-droplet}/engine;
# the Go module and build caches live there too. A run with everything cached
# rebuilds nothing. The last line on stdout is a directory holding all the
# requested binaries (hard links into the cache): put it first on PATH.
# Progress, with the wall time of each build, goes to stderr; with
# BUILD_ENGINE_TIMES=FILE, one line "NAME built|cached|installed SECONDS" per
# binary is appended to FILE too.
#
# Running Pulumi with it (a throwaway state and home, nothing downloaded):
#   bin=$(test/engine/build-engine.sh pulumi pulumi-language-nodejs pulumi-resource-random)
#   export PATH="$bin:$PATH" PULUMI_HOME="$tmp/home" PULUMI_SKIP_UPDATE_CHECK=1 \
#     PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_CONFIG_PASSPHRASE=test
#   pulumi login "file://$tmp/state"
# The CLI takes pulumi-resource-* from PATH, with a warning "using
# pulumi-resource-X from $PATH". The plugin cache instead needs exactly the
# version that the npm SDK asks for:
#   pulumi plugin install resource random 4.21.2 --file "$bin/pulumi-resource-random"
set -euo pipefail

# Bump when the build recipe changes in a way that must rebuild every binary.
RECIPE=3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
lock="$repo/package-lock.json"
upstream_src="${JUPYTERLAB_DROPLET_UPSTREAM_SRC:-$repo/../shared/upstream-src}"
cache="${JUPYTERLAB_DROPLET_CACHE:-$HOME/.cache/jupyterlab-droplet}"
engine="$cache/engine"

log() { printf '[build-engine] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

all_binaries=(pulumi pulumi-language-nodejs pulumi-resource-command pulumi-resource-tls
  pulumi-resource-random pulumi-resource-digitalocean)
allow_missing=0
wanted=()
for arg in "$@"; do
  case "$arg" in
    --allow-missing) allow_missing=1 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
      exit 0
      ;;
    -*) die "unknown option: $arg" ;;
    *)
      found=0
      for b in "${all_binaries[@]}"; do [[ "$b" == "$arg" ]] && found=1; done
      ((found)) || die "unknown binary '$arg' (known: ${all_binaries[*]})"
      wanted+=("$arg")
      ;;
  esac
done
((${#wanted[@]})) || wanted=("${all_binaries[@]}")

command -v go >/dev/null || die "the go command is not on PATH"
command -v node >/dev/null || die "node is not on PATH (needed to read package-lock.json)"
[[ -f "$lock" ]] || die "no package-lock.json at $lock"

# npm_version PACKAGE: the version package-lock.json pins for node_modules/PACKAGE.
npm_version() {
  local v
  v=$(node -e '
		const lock = require(process.argv[1]);
		const p = (lock.packages || {})["node_modules/" + process.argv[2]];
		if (!p || !p.version) process.exit(1);
		process.stdout.write(p.version);
	' "$lock" "$1") || die "package-lock.json pins no version of $1"
  printf '%s' "$v"
}

mkdir -p "$engine"
export GOMODCACHE="$engine/gomod"
export GOCACHE="$engine/gocache"
export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
# These binaries drive tests, never a user's cloud: compile time counts, not their speed. Four
# times the compiler's default heap before each collection, and (go_build) no optimization or
# inlining: on two cores the cold build takes about 40% less time.
export GOGC=400
# Never fetch another Go toolchain: the machine's Go builds all of it.
export GOTOOLCHAIN=local

# One build at a time, also across concurrent runs of this script.
exec 9>"$engine/.lock"
if command -v flock >/dev/null; then
  flock 9
fi

now() { date +%s.%N; }
record_time() { [[ -z "${BUILD_ENGINE_TIMES:-}" ]] || printf '%s %s %s\n' "$@" >>"$BUILD_ENGINE_TIMES"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# recipe_hash TEXT FILE...: a short hash of the recipe number, TEXT and the
# files' names and contents.
recipe_hash() {
  local f
  {
    printf 'recipe %s\n%s\n' "$RECIPE" "$1"
    shift
    for f in "$@"; do
      printf '%s\n' "${f#"$here"/}"
      cat "$f"
    done
  } | sha256sum | cut -c1-12
}

# fetch_module MODULE@VERSION: makes sure the module can be had, or fails
# naming it.
fetch_module() {
  local out
  if ! out=$(go mod download -json "$1" 2>&1); then
    log "cannot get Go module $1:"
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    return 1
  fi
  if printf '%s' "$out" | grep -q '"Error"'; then
    log "cannot get Go module $1:"
    printf '%s\n' "$out" | grep '"Error"' | sed 's/^/    /' >&2
    return 1
  fi
}

# build_wrapper NAME KEY WRAPPER PACKAGE LDFLAGS [MODULE@VERSION...]: copies our
# wrapper module test/engine/go/WRAPPER into the cache, pins each module named,
# and builds PACKAGE into $engine/NAME-KEY/NAME.
build_wrapper() {
  local name=$1 key=$2 wrapper=$3 pkg=$4 ldflags=$5 src="$engine/src/$1-$2" module
  shift 5
  rm -rf "$src"
  mkdir -p "$src"
  cp -R "$here/go/$wrapper/." "$src/"
  for module in "$@"; do
    fetch_module "$module" || return 1
    (cd "$src" && go mod edit -require="$module") || return 1
  done
  go_build "$name" "$key" "$src" "$pkg" "$ldflags"
}

# --- recipes -----------------------------------------------------------------
# Each recipe sets KEY (the cache key: version plus recipe hash) and BUILD (a
# command that builds the binary into $engine/$name-$KEY/$name), or sets
# MISSING to a message saying why the binary cannot be built. A recipe may
# instead set INSTALLED to a released plugin's path.

pulumi_version=$(npm_version @pulumi/pulumi)

recipe_pulumi() {
  local v=$pulumi_version
  KEY="$v-$(recipe_hash "" "$here/go/pulumi/go.mod" "$here/go/pulumi/go.sum")"
  BUILD=(build_wrapper pulumi "$KEY" pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
    "github.com/pulumi/pulumi/pkg/v3@v$v" "github.com/pulumi/pulumi/sdk/v3@v$v")
}

# tarball NAME: the path of the upstream tarball whose name starts with NAME-,
# after checking it against SHA256SUMS; sets TARBALL_SUM. Fails naming the file.
tarball() {
  local name=$1 sums="$upstream_src/SHA256SUMS" line file
  [[ -f "$sums" ]] || {
    MISSING="no $sums: the upstream source tarballs are expected in $upstream_src (set JUPYTERLAB_DROPLET_UPSTREAM_SRC)"
    return 1
  }
  line=$(grep -E "  $name-[0-9a-f]+\.tar\.gz\$" "$sums" | head -n 1) || true
  [[ -n "$line" ]] || {
    MISSING="$sums lists no $name-<commit>.tar.gz"
    return 1
  }
  TARBALL_SUM=${line%% *}
  file="$upstream_src/${line##* }"
  [[ -f "$file" ]] || {
    MISSING="missing tarball $file (listed in $sums)"
    return 1
  }
  TARBALL=$file
}

# verify_tarball FILE SUM: fails unless FILE's SHA-256 is SUM.
verify_tarball() {
  local actual
  actual=$(sha256sum <"$1" | cut -d' ' -f1)
  if [[ "$actual" != "$2" ]]; then
    log "checksum mismatch for $1: SHA256SUMS says $2, the file is $actual"
    return 1
  fi
}

# unpack NAME KEY TARBALL...: a fresh source tree $engine/src/NAME-KEY with
# each tarball unpacked into it (after checking its checksum); sets SRC.
unpack() {
  local name=$1 key=$2 t
  shift 2
  SRC="$engine/src/$name-$key"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  for t in "$@"; do
    verify_tarball "${t%%=*}" "${t#*=}" || return 1
    log "$name: unpacking $(basename "${t%%=*}")"
    tar -xzf "${t%%=*}" -C "$SRC" || {
      log "$name: cannot unpack ${t%%=*}"
      return 1
    }
  done
}

# go_build NAME KEY DIR PACKAGE LDFLAGS: go build in DIR into $engine/NAME-KEY/NAME.
go_build() {
  local name=$1 key=$2 dir=$3 pkg=$4 ldflags=$5 out="$engine/$1-$2"
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  log "$name: go build $pkg (in ${dir#"$engine"/})"
  if ! (cd "$dir" && go build -trimpath -gcflags=all='-N -l' -ldflags "-s -w $ldflags" -o "$out.tmp/$name" "$pkg") >&2; then
    log "$name: step 'go build' failed (sources in $dir)"
    return 1
  fi
  rm -rf "$out"
  mv "$out.tmp" "$out"
}

# generate_schema NAME DIR VERSION: the bridged providers embed their schema,
# stamped with the version, from a generator that ships with them.
generate_schema() {
  log "$1: go run ./generate.go (VERSION=$3)"
  if ! (cd "$2" && VERSION=$3 go run ./generate.go) >&2; then
    log "$1: step 'go run ./generate.go' failed (in $2)"
    return 1
  fi
}

# installed_plugin NAME VERSION: a released plugin of exactly that version
# that `pulumi plugin install` put in the plugin cache, if any.
installed_plugin() {
  local f="${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$1-v$2/pulumi-resource-$1"
  [[ -x "$f" ]] && printf '%s' "$f"
}

# provider_recipe NAME NPM_PACKAGE TARBALL...: a provider's recipe: sets
# VERSION, KEY and BUILD (build_NAME KEY VERSION FILE=SUM...), or INSTALLED,
# or MISSING.
provider_recipe() {
  local name=$1 pkg=$2 t sums=""
  shift 2
  VERSION=$(npm_version "$pkg")
  INSTALLED=$(installed_plugin "$name" "$VERSION") || true
  [[ -n "$INSTALLED" ]] && return 0
  TARBALLS=()
  for t in "$@"; do
    tarball "$t" || return 0
    TARBALLS+=("$TARBALL=$TARBALL_SUM")
    sums+="$TARBALL_SUM "
  done
  KEY="$VERSION-$(recipe_hash "$sums$(declare -f "build_${name//-/_}")")"
  BUILD=("build_${name//-/_}" "$KEY" "$VERSION" "${TARBALLS[@]}")
}

recipe_pulumi_resource_digitalocean() {
  provider_recipe digitalocean @pulumi/digitalocean pulumi-digitalocean terraform-provider-digitalocean
}

# The Pulumi provider's go.mod replaces the Terraform provider with ../upstream,
# patched by the provider's own patches/.
build_digitalocean() {
  local key=$1 v=$2 name=pulumi-resource-digitalocean p
  shift 2
  unpack "$name" "$key" "$@" || return 1
  mv "$SRC/terraform-provider-digitalocean" "$SRC/pulumi-digitalocean/upstream"
  for p in "$SRC"/pulumi-digitalocean/patches/*.patch; do
    [[ -e "$p" ]] || continue
    log "$name: applying $(basename "$p")"
    (cd "$SRC/pulumi-digitalocean/upstream" && patch -p1 --quiet <"$p") >&2 || {
      log "$name: step 'patch $(basename "$p")' failed"
      return 1
    }
  done
  generate_schema "$name" "$SRC/pulumi-digitalocean/provider/cmd/$name" "$v" || return 1
  go_build "$name" "$key" "$SRC/pulumi-digitalocean/provider" "./cmd/$name" \
    "-X github.com/pulumi/pulumi-digitalocean/provider/v4/pkg/version.Version=$v"
}

recipe_pulumi_resource_command() {
  provider_recipe command @pulumi/command pulumi-command
}

build_command() {
  local key=$1 v=$2 name=pulumi-resource-command
  shift 2
  unpack "$name" "$key" "$@" || return 1
  go_build "$name" "$key" "$SRC/pulumi-command" "./provider/cmd/$name" \
    "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$v"
}

recipe_pulumi_resource_random() {
  provider_recipe random @pulumi/random pulumi-random
}

build_random() {
  local key=$1 v=$2 name=pulumi-resource-random
  shift 2
  unpack "$name" "$key" "$@" || return 1
  generate_schema "$name" "$SRC/pulumi-random/provider/cmd/$name" "$v" || return 1
  go_build "$name" "$key" "$SRC/pulumi-random/provider" "./cmd/$name" \
    "-X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=$v"
}

recipe_pulumi_resource_tls() {
  provider_recipe tls @pulumi/tls pulumi-tls
}

# The tls provider's go.mod asks for a pseudo-version of the Terraform provider
# that the Go module proxy does not serve; a later served commit replaces it.
build_tls() {
  local key=$1 v=$2 name=pulumi-resource-tls dir
  shift 2
  unpack "$name" "$key" "$@" || return 1
  dir="$SRC/pulumi-tls/provider"
  log "$name: go mod edit -replace terraform-provider-tls (a served pseudo-version) && go mod tidy"
  if ! (cd "$dir" &&
    go mod edit -replace=github.com/hashicorp/terraform-provider-tls=github.com/hashicorp/terraform-provider-tls@v1.2.1-0.20260819085117-d044ca7c6f52 &&
    go mod tidy) >&2; then
    log "$name: step 'go mod edit/tidy' failed (in $dir)"
    return 1
  fi
  generate_schema "$name" "$dir/cmd/$name" "$v" || return 1
  go_build "$name" "$key" "$dir" "./cmd/$name" \
    "-X github.com/pulumi/pulumi-tls/provider/v5/pkg/version.Version=$v"
}

# The upstream Node.js language host. Its go.mod points the Pulumi Go SDKs at
# the monorepo around it; the tarball holds only the host, so the served
# releases replace them.
recipe_pulumi_language_nodejs() {
  local v=$pulumi_version
  tarball pulumi-language-nodejs || return 0
  KEY="$v-$(recipe_hash "$TARBALL_SUM $(declare -f build_language_nodejs)")"
  BUILD=(build_language_nodejs "$KEY" "$v" "$TARBALL=$TARBALL_SUM")
}

build_language_nodejs() {
  local key=$1 v=$2 name=pulumi-language-nodejs dir sdk
  shift 2
  unpack "$name" "$key" "$@" || return 1
  dir="$SRC/pulumi-language-nodejs/sdk/nodejs/cmd/pulumi-language-nodejs"
  sdk=$(sed -n 's#^[[:space:]]*github.com/pulumi/pulumi/sdk/v3 \(v[^ ]*\)$#\1#p' "$dir/go.mod" | head -n 1)
  log "$name: the Go SDKs at the served $sdk instead of the monorepo"
  if ! (cd "$dir" &&
    go mod edit -dropreplace=github.com/pulumi/pulumi/pkg/v3 -dropreplace=github.com/pulumi/pulumi/sdk/v3 \
      -require="github.com/pulumi/pulumi/pkg/v3@$sdk" &&
    go mod tidy) >&2; then
    log "$name: step 'go mod edit/tidy' failed (in $dir)"
    return 1
  fi
  go_build "$name" "$key" "$dir" . \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
}

# --- main --------------------------------------------------------------------

failed=()
built=()
manifest=""
total_start=$(now)
for name in "${wanted[@]}"; do
  KEY="" BUILD=() MISSING="" VERSION="" INSTALLED="" TARBALLS=()
  "recipe_${name//-/_}"
  if [[ -n "$INSTALLED" ]]; then
    log "$name $VERSION: the released plugin $INSTALLED"
    record_time "$name" installed 0
    built+=("$name")
    manifest+="$name installed:$INSTALLED"$'\n'
    continue
  fi
  if [[ -n "$MISSING" ]]; then
    log "$MISSING"
    failed+=("$name")
    continue
  fi
  dir="$engine/$name-$KEY"
  start=$(now)
  if [[ -x "$dir/$name" ]]; then
    log "$name $KEY: cached ($(elapsed "$start") s) in $dir"
    record_time "$name" cached "$(elapsed "$start")"
  else
    log "$name $KEY: building..."
    if "${BUILD[@]}"; then
      log "$name $KEY: built in $(elapsed "$start") s -> $dir/$name ($(du -h "$dir/$name" | cut -f1))"
      record_time "$name" built "$(elapsed "$start")"
    else
      log "$name $KEY: FAILED after $(elapsed "$start") s"
      failed+=("$name")
      continue
    fi
  fi
  built+=("$name")
  manifest+="$name $KEY"$'\n'
done

if ((${#failed[@]})); then
  log "could not build: ${failed[*]} (see the messages above)"
  if ((!allow_missing)); then
    log "FAILED (pass --allow-missing to get a bin directory without them)"
    exit 1
  fi
fi
((${#built[@]})) || die "nothing was built"

bin="$engine/bin-$(printf 'hard links\n%s' "$manifest" | sha256sum | cut -c1-12)"
if [[ ! -d "$bin" ]]; then
  rm -rf "$bin.tmp"
  mkdir -p "$bin.tmp"
  while read -r name key; do
    [[ -n "$name" ]] || continue
    # Hard links, not symlinks: the CLI looks for its language host beside
    # its own (resolved) executable, and warns when it has to take it from PATH.
    from="$engine/$name-$key/$name"
    [[ "$key" == installed:* ]] && from=${key#installed:}
    ln "$from" "$bin.tmp/$name" 2>/dev/null || cp "$from" "$bin.tmp/$name"
  done <<<"$manifest"
  printf '%s' "$manifest" >"$bin.tmp/MANIFEST"
  mv "$bin.tmp" "$bin"
fi
log "all done in $(elapsed "$total_start") s; binaries in $bin"
printf '%s\n' "$bin"
