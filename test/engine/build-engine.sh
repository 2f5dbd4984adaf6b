#!/usr/bin/env bash
# Builds the Pulumi engine that the project's tests run: the `pulumi` CLI, the
# Node.js language host and the resource provider plugins, from Go modules,
# at the versions that package-lock.json pins for the npm SDKs.
#
# Usage: test/engine/build-engine.sh [--allow-missing] [BINARY...]
#   BINARY: pulumi, pulumi-language-nodejs, pulumi-resource-command,
#           pulumi-resource-tls, pulumi-resource-random,
#           pulumi-resource-digitalocean (default: all of them)
#   --allow-missing: report binaries that cannot be built, but still populate
#           the bin directory with the others and exit 0.
#
# Every binary is cached, keyed by its version (and by a hash of the recipe
# that builds it), in ${JUPYTERLAB_DROPLET_CACHE:-$HOME/.cache/jupyterlab-droplet}/engine;
# the Go module and build caches live there too. A run with everything cached
# rebuilds nothing. The last line on stdout is a directory holding all the
# requested binaries (hard links into the cache): put it first on PATH.
# Progress, with the wall time of each build, goes to stderr.
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
RECIPE=1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
lock="$repo/package-lock.json"
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

# One build at a time, also across concurrent runs of this script.
exec 9>"$engine/.lock"
if command -v flock >/dev/null; then
	flock 9
fi

now() { date +%s.%N; }
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

# build_wrapper NAME KEY WRAPPER PACKAGE LDFLAGS [EDIT...]: copies our
# wrapper module test/engine/go/WRAPPER into the cache, applies each EDIT
# (require:MODULE@VERSION pins a module, replace:OLD=NEW@VERSION replaces
# one), and builds PACKAGE into $engine/NAME-KEY/NAME.
build_wrapper() {
	local name=$1 key=$2 wrapper=$3 pkg=$4 ldflags=$5
	shift 5
	local src="$engine/src/$name-$key" out="$engine/$name-$key"
	rm -rf "$src" "$out.tmp"
	mkdir -p "$src" "$out.tmp"
	cp -R "$here/go/$wrapper/." "$src/"
	local e
	for e in "$@"; do
		case "$e" in
		require:*)
			fetch_module "${e#require:}" || return 1
			(cd "$src" && go mod edit -require="${e#require:}") || return 1
			;;
		replace:*)
			fetch_module "${e#*=}" || return 1
			(cd "$src" && go mod edit -replace="${e#replace:}") || return 1
			;;
		*) die "bad edit $e" ;;
		esac
	done
	log "$name: go build $pkg"
	if ! (cd "$src" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp/$name" "$pkg") >&2; then
		log "$name: go build failed (sources in $src)"
		return 1
	fi
	rm -rf "$out"
	mv "$out.tmp" "$out"
}

# --- recipes -----------------------------------------------------------------
# Each recipe sets KEY (the cache key: version plus recipe hash) and BUILD (a
# command that builds the binary into $engine/$name-$KEY/$name), or sets
# MISSING to a message saying why the binary cannot be built.

pulumi_version=$(npm_version @pulumi/pulumi)

recipe_pulumi() {
	local v=$pulumi_version
	KEY="$v-$(recipe_hash "" "$here/go/pulumi/go.mod" "$here/go/pulumi/go.sum")"
	BUILD=(build_wrapper pulumi "$KEY" pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
		"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
		"require:github.com/pulumi/pulumi/pkg/v3@v$v" "require:github.com/pulumi/pulumi/sdk/v3@v$v")
}

# The Node.js language host. Its own Go module
# (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not
# served by the Go module proxy reachable here at any commit tried, so this
# builds our own small host (test/engine/go/pulumi-language-nodejs) against
# the Pulumi Go SDK of the same version; it runs the program with the run
# harness of the @pulumi/pulumi npm package, like the upstream host does.
recipe_pulumi_language_nodejs() {
	local v=$pulumi_version w="$here/go/pulumi-language-nodejs"
	KEY="$v-$(recipe_hash "" "$w/go.mod" "$w/go.sum" "$w/main.go")"
	BUILD=(build_wrapper pulumi-language-nodejs "$KEY" pulumi-language-nodejs .
		"-X main.version=v$v -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
		"require:github.com/pulumi/pulumi/sdk/v3@v$v")
}

# Provider modules carry no tags: each npm release maps to the commit it was
# released from, written as a Go pseudo-version.
recipe_pulumi_resource_command() {
	local v
	v=$(npm_version @pulumi/command)
	case "$v" in
	1.2.1) MODULE="github.com/pulumi/pulumi-command/provider@v0.0.0-20260303235922-7f3eb6f3b77c" ;;
	*)
		MISSING="pulumi-resource-command: no known commit for @pulumi/command $v; add it to $0"
		return
		;;
	esac
	KEY="$v-$(recipe_hash "$MODULE")"
	BUILD=(build_module pulumi-resource-command "$KEY" "$MODULE" cmd/pulumi-resource-command
		"-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=v$v")
}

# build_module NAME KEY MODULE@VERSION SUBPACKAGE LDFLAGS: builds a main
# package of a module that has no replace directives, as `go install` would.
build_module() {
	local name=$1 key=$2 mv=$3 sub=$4 ldflags=$5
	local mod=${mv%@*} out="$engine/$name-$key"
	fetch_module "$mv" || return 1
	rm -rf "$out" "$out.tmp"
	mkdir -p "$out.tmp"
	log "$name: go install $mod/$sub@${mv#*@}"
	if ! GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w $ldflags" "$mod/$sub@${mv#*@}" >&2; then
		log "$name: go install failed"
		return 1
	fi
	mv "$out.tmp" "$out"
}

# The Terraform-bridged providers. Their Pulumi provider modules
# (github.com/pulumi/pulumi-{tls,random,digitalocean}/provider) are not
# served by the Go module proxy reachable here at any commit tried, so for
# tls and random this builds our own small main (test/engine/go/pulumi-resource-*)
# that serves the upstream Terraform provider through the Pulumi Terraform
# bridge. Each npm release maps to the upstream provider commit and the
# bridge release it was built from (the nearest ones the proxy serves).
#
# bridged_recipe NAME WRAPPER BRIDGE_VERSION UPSTREAM_MODULE@VERSION
bridged_recipe() {
	local name=$1 wrapper=$2 bridge=$3 upstream=$4 w="$here/go/$2"
	MODULE="$upstream"
	KEY="$VERSION-$(recipe_hash "$bridge $upstream" "$w/go.mod" "$w/go.sum" "$w/main.go")"
	local bmod="github.com/pulumi/pulumi-terraform-bridge/v3@$bridge"
	# The bridge needs the fork of terraform-plugin-sdk that its own go.mod
	# names in a replace directive; replace directives of dependencies do not
	# apply, so the wrapper repeats it.
	BUILD=(bridged_build "$name" "$KEY" "$wrapper" "-X main.version=$VERSION" "$bmod" "$upstream")
}

# bridged_build NAME KEY WRAPPER LDFLAGS BRIDGE@VERSION UPSTREAM@VERSION
bridged_build() {
	local name=$1 key=$2 wrapper=$3 ldflags=$4 bmod=$5 upstream=$6 gomod sdkfork
	fetch_module "$bmod" || return 1
	gomod=$(go mod download -json "$bmod" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	sdkfork=$(sed -n 's#^replace github.com/hashicorp/terraform-plugin-sdk/v2 => \([^ ]*\) \([^ ]*\)$#\1@\2#p' "$gomod")
	local edits=("require:$bmod" "require:$upstream")
	[[ -n "$sdkfork" ]] && edits+=("replace:github.com/hashicorp/terraform-plugin-sdk/v2=$sdkfork")
	build_wrapper "$name" "$key" "$wrapper" . "$ldflags" "${edits[@]}"
}

recipe_pulumi_resource_tls() {
	VERSION=$(npm_version @pulumi/tls)
	case "$VERSION" in
	5.6.1)
		bridged_recipe pulumi-resource-tls pulumi-resource-tls v3.137.0 \
			github.com/hashicorp/terraform-provider-tls@v1.2.1-0.20260819085117-d044ca7c6f52
		;;
	*) MISSING="pulumi-resource-tls: no known upstream commit for @pulumi/tls $VERSION; add it to $0" ;;
	esac
}

recipe_pulumi_resource_random() {
	VERSION=$(npm_version @pulumi/random)
	case "$VERSION" in
	4.21.2)
		bridged_recipe pulumi-resource-random pulumi-resource-random v3.137.0 \
			github.com/terraform-providers/terraform-provider-random@v1.3.2-0.20260824155315-e1092b0cfc07
		;;
	*) MISSING="pulumi-resource-random: no known upstream commit for @pulumi/random $VERSION; add it to $0" ;;
	esac
}

# Neither the Pulumi provider module nor the upstream Terraform provider
# module (github.com/digitalocean/terraform-provider-digitalocean, whose v2
# releases are only reachable as pseudo-versions) is served by the Go module
# proxy reachable here at the commits tried: this fetch fails, naming them.
recipe_pulumi_resource_digitalocean() {
	VERSION=$(npm_version @pulumi/digitalocean)
	case "$VERSION" in
	4.80.1)
		# Upstream v2.99.1, the newest upstream release before @pulumi/digitalocean 4.80.1.
		MODULE="github.com/digitalocean/terraform-provider-digitalocean@v1.23.1-0.20260806100213-401992a1e493"
		;;
	*)
		MISSING="pulumi-resource-digitalocean: no known upstream commit for @pulumi/digitalocean $VERSION; add it to $0"
		return
		;;
	esac
	KEY="$VERSION-$(recipe_hash "$MODULE")"
	BUILD=(unavailable pulumi-resource-digitalocean "$MODULE"
		"no wrapper for the DigitalOcean provider exists yet (test/engine/go/pulumi-resource-digitalocean)")
}

# unavailable NAME MODULE@VERSION WHY: fails naming the module, unless the
# module can be had after all (then the recipe needs writing).
unavailable() {
	fetch_module "$2" || return 1
	log "$1: $2 can be had now, but $3"
	return 1
}

# --- main --------------------------------------------------------------------

failed=()
built=()
manifest=""
total_start=$(now)
for name in "${wanted[@]}"; do
	KEY="" BUILD=() MISSING="" MODULE="" VERSION=""
	"recipe_${name//-/_}"
	if [[ -n "$MISSING" ]]; then
		log "$MISSING"
		failed+=("$name")
		continue
	fi
	dir="$engine/$name-$KEY"
	start=$(now)
	if [[ -x "$dir/$name" ]]; then
		log "$name $KEY: cached ($(elapsed "$start") s) in $dir"
	else
		log "$name $KEY: building..."
		if "${BUILD[@]}"; then
			log "$name $KEY: built in $(elapsed "$start") s -> $dir/$name ($(du -h "$dir/$name" | cut -f1))"
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
		ln "$engine/$name-$key/$name" "$bin.tmp/$name" 2>/dev/null ||
			cp "$engine/$name-$key/$name" "$bin.tmp/$name"
	done <<<"$manifest"
	printf '%s' "$manifest" >"$bin.tmp/MANIFEST"
	mv "$bin.tmp" "$bin"
fi
log "all done in $(elapsed "$total_start") s; binaries in $bin"
printf '%s\n' "$bin"
