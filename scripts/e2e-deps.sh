#!/usr/bin/env bash
# e2e-deps.sh — build the third-party servers the end-to-end tests run against,
# once per Go version, and print where they are:
#
#   KAPACITORD=/…/anomalyd-e2e/kapacitor-v1.5.9-go1.26.8/kapacitord
#   KAPACITOR=/…/anomalyd-e2e/kapacitor-v1.5.9-go1.26.8/kapacitor
#   INFLUXD=/…/anomalyd-e2e/influxdb-v1.8.10-go1.26.8/influxd
#
# Only those lines go to stdout (so `eval "$(scripts/e2e-deps.sh)"` works);
# progress goes to stderr. Needs nothing but Go and the Go module proxy: the
# binaries are built with CGO_ENABLED=0 from the pinned modules in
# test/e2e/tools/{kapacitor,influxdb} (go.sum checks every download).
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/anomalyd-e2e/<name>-<version>-<go version>/.
# A directory there is complete or absent (built aside, then renamed), so an
# interrupted build is simply redone. Delete it to force a rebuild.
#
# Kapacitor 1.5.9 needs one source patch to start under Go >= 1.22 (or so):
# github.com/ugorji/go/codec at v0.0.0-20170312112114-708a42d24682 builds a
# base64 alphabet ending in "__" at package init, and encoding/base64 now
# panics on duplicate symbols. The alphabet is only used when generating code
# (codecgen), never by kapacitord. This script copies that module version from
# the module cache (verified against go.sum), changes the last "_" to "-", and
# builds through a replace directive in a scratch copy of the tools module. The
# patched copy lives only in the scratch directory, never in git.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-go}

KAPACITOR_VERSION=v1.5.9
INFLUXDB_VERSION=v1.8.10
UGORJI_MODULE=github.com/ugorji/go
UGORJI_VERSION=v0.0.0-20170312112114-708a42d24682

# Build exactly what go.mod/go.sum pin, with the Go found here, without cgo.
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0

log() { printf 'e2e-deps: %s\n' "$*" >&2; }

goversion=$("$GO" env GOVERSION)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/anomalyd-e2e
mkdir -p "$cache"
# Scratch directories of builds that were killed (trap did not run).
find "$cache" -maxdepth 1 -name '.build-*' -mmin +720 -exec rm -rf {} + 2>/dev/null || true

# patch_ugorji WORKDIR: put the patched ugorji copy next to the scratch go.mod
# in WORKDIR and point a replace directive at it.
patch_ugorji() {
	local work=$1 src gen
	(cd "$work" && "$GO" mod download "$UGORJI_MODULE@$UGORJI_VERSION")
	src=$(cd "$work" && "$GO" list -m -f '{{.Dir}}' "$UGORJI_MODULE")
	if [ -z "$src" ] || [ ! -d "$src" ]; then
		log "cannot find $UGORJI_MODULE@$UGORJI_VERSION in the module cache"
		return 1
	fi
	cp -R "$src" "$work/ugorji-go"
	chmod -R u+w "$work/ugorji-go"
	gen=$work/ugorji-go/codec/gen.go
	sed -i 's/\(base64\.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_\)_")/\1-")/' "$gen"
	if ! grep -q 'base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")' "$gen"; then
		log "patching $gen failed: the base64 alphabet line was not found"
		return 1
	fi
	# That version predates modules; a directory replacement needs a go.mod.
	printf 'module %s\n' "$UGORJI_MODULE" >"$work/ugorji-go/go.mod"
	(cd "$work" && "$GO" mod edit -replace "$UGORJI_MODULE@$UGORJI_VERSION=./ugorji-go")
}

# build NAME VERSION PATCH PKG... : build PKGs from test/e2e/tools/NAME into
# $cache/NAME-VERSION-GOVERSION unless that directory already exists.
# PATCH is "ugorji" or "none". Sets $dir to the cache directory.
build() {
	local name=$1 version=$2 patch=$3
	shift 3
	dir=$cache/$name-$version-$goversion
	if [ -d "$dir" ]; then
		return 0
	fi
	local work start pkg
	work=$(mktemp -d "$cache/.build-$name.XXXXXX")
	# shellcheck disable=SC2064 # expand $work now
	trap "rm -rf '$work'" EXIT
	start=$(date +%s)
	log "building $name $version with $goversion (first run only; takes minutes)"
	cp "$repo/test/e2e/tools/$name/go.mod" "$repo/test/e2e/tools/$name/go.sum" "$work/"
	if [ "$patch" = ugorji ]; then
		patch_ugorji "$work"
	fi
	mkdir "$work/bin"
	(cd "$work" && "$GO" build -trimpath \
		-ldflags "-s -w -X main.version=${version#v} -X main.branch=release -X main.commit=go-module-proxy" \
		-o "$work/bin/" "$@")
	for pkg in "$@"; do
		if [ ! -x "$work/bin/${pkg##*/}" ]; then
			log "build of $pkg produced no binary"
			return 1
		fi
	done
	# Rename into place; if a concurrent run won the race, keep its copy.
	if ! mv -T "$work/bin" "$dir" 2>/dev/null; then
		[ -d "$dir" ] || { log "cannot create $dir"; return 1; }
	fi
	rm -rf "$work"
	trap - EXIT
	log "built $name $version in $(($(date +%s) - start))s: $dir"
}

build kapacitor "$KAPACITOR_VERSION" ugorji \
	github.com/influxdata/kapacitor/cmd/kapacitord \
	github.com/influxdata/kapacitor/cmd/kapacitor
kapacitor_dir=$dir
build influxdb "$INFLUXDB_VERSION" none \
	github.com/influxdata/influxdb/cmd/influxd
influxdb_dir=$dir

printf 'KAPACITORD=%s\nKAPACITOR=%s\nINFLUXD=%s\n' \
	"$kapacitor_dir/kapacitord" "$kapacitor_dir/kapacitor" "$influxdb_dir/influxd"
