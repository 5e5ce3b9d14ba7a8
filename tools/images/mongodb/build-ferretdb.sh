#!/usr/bin/env bash
# Build (or reuse) FerretDB, the MongoDB-wire stand-in, from its Go module, and print the path of the static
# binary on the last stdout line:
#
#   ferretdb="$(tools/images/mongodb/build-ferretdb.sh | tail -1)"
#   "$ferretdb" --handler=sqlite --sqlite-url=file:/some/dir/ --listen-addr=127.0.0.1:27017 --telemetry=disable
#
# FerretDB is a stand-in for mongod, not MongoDB: see README.md "Local images" for what it leaves untested.
# The build changes one behaviour of FerretDB towards MongoDB's ($setOnInsert with null or [], see below).
# v1 is the line built here: its SQLite backend needs no other server. FerretDB v2 (the only other line the Go
# module proxy serves, github.com/FerretDB/FerretDB/v2) runs only on PostgreSQL with Microsoft's DocumentDB
# extension, which no registry reachable here provides.
#
# Cached under ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/ferretdb/<version>-<hash of this script>/ferretdb,
# built in a scratch directory beside it and renamed into place, one build at a time (tools/lib/cache-build.sh).
# A warm run only checks the cache.
#
# Options:
#   --version vX.Y.Z   FerretDB module version (default $FERRETDB_VERSION, else v1.24.2); v1 only
#   --force            rebuild even when the cache holds this version
#   -h, --help         this text
# Environment:
#   LICODE_CACHE                 cache root (default $HOME/.cache/licode-k8s)
#   LICODE_FERRETDB_LOCK_TIMEOUT seconds to wait for another build's lock (default 1800)
# Progress goes to stderr; stdout carries only the binary path. Needs go (>= 1.24, FerretDB's go.mod), flock.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/../../.." && pwd -P)"

log() { printf '[ferretdb] %s\n' "$*" >&2; }
die() { printf '[ferretdb] ERROR: %s\n' "$*" >&2; exit 1; }

VERSION="${FERRETDB_VERSION:-v1.24.2}"
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || die "--version needs a value, e.g. --version v1.24.2"; VERSION="$2"; shift ;;
    --version=*) VERSION="${1#--version=}" ;;
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done
# The v1 module path has no /vN suffix; v2 would be another module with another backend (see the header).
[[ "$VERSION" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "--version (or FERRETDB_VERSION) must be a FerretDB v1 release like v1.24.2, got '$VERSION'"

for tool in go flock sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH"
done

CACHE="${LICODE_CACHE:-$HOME/.cache/licode-k8s}/ferretdb"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"
KEY="$VERSION-$(sha256sum <"${BASH_SOURCE[0]}" | cut -c1-12)"
OUT_DIR="$CACHE/$KEY"
BIN="$OUT_DIR/ferretdb"

# The published directory is complete by construction (renamed into place only after the binary ran).
if [ "$FORCE" = 0 ] && [ -x "$BIN" ]; then
  log "FerretDB $VERSION: cached"
  printf '%s\n' "$BIN"
  exit 0
fi

# shellcheck source-path=SCRIPTDIR source=../../lib/cache-build.sh
. "$ROOT/tools/lib/cache-build.sh"
cache_lock "${LICODE_FERRETDB_LOCK_TIMEOUT:-1800}"
if [ "$FORCE" = 0 ] && [ -x "$BIN" ]; then
  log "FerretDB $VERSION: cached (built by a concurrent run)"
  printf '%s\n' "$BIN"
  exit 0
fi

# Only the module proxy, never a toolchain download; pure Go (the SQLite backend is modernc.org/sqlite).
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false -mod=readonly"
t0=$(date +%s)
new_tmp build
SCRATCH="$NEW_TMP"
SRC_MOD="$(cd "$SCRATCH" && mod_dir "github.com/FerretDB/FerretDB@$VERSION")"
log "building FerretDB $VERSION from $SRC_MOD ($(go env GOVERSION))"
cp -r "$SRC_MOD" "$SCRATCH/src"
chmod -R u+w "$SCRATCH/src"
# Built as the main module, FerretDB panics at start without build/version/version.txt
# (build/version/version.go, init: "Invalid build/version/version.txt file content"); upstream's
# `task gen-version` writes it from `git describe`, which a module zip has no history for.
printf '%s\n' "$VERSION" >"$SCRATCH/src/build/version/version.txt"
printf '%s\n' "licode-k8s-standin" >"$SCRATCH/src/build/version/package.txt"
# One change to FerretDB, towards MongoDB: MongoDB's $setOnInsert sets every value it is given, while
# FerretDB 1.24.2 drops null and empty-array values (internal/handler/common/update.go 402-410). The
# superservice upsert (components/superservice.ts BOOTSTRAP_SCRIPT) would then insert no `rooms: []`, and
# Nuve's createRoom crashes on the missing array (nuve/nuveAPI/resource/roomsResource.js 74, Licode v10).
# The guard is disabled here; the build fails if the line is not where 1.24.2 has it.
SET_ON_INSERT_FILE="$SCRATCH/src/internal/handler/common/update.go"
SET_ON_INSERT_GUARD=$'\tif setOnInsert {'
[ "$(sed -n 402p "$SET_ON_INSERT_FILE")" = "$SET_ON_INSERT_GUARD" ] ||
  die "FerretDB $VERSION: internal/handler/common/update.go line 402 is not the \$setOnInsert guard this build disables; review the change for this version"
sed -i '402s/if setOnInsert {/if false \&\& setOnInsert { \/\/ licode-k8s: set null and [] as MongoDB does/' "$SET_ON_INSERT_FILE"
mkdir -p "$SCRATCH/out"
(cd "$SCRATCH/src" && go build -trimpath -ldflags "-s -w" -o "$SCRATCH/out/ferretdb" ./cmd/ferretdb) ||
  die "go build of FerretDB $VERSION failed (see the Go output above)"

# A binary that cannot print its own version is not cached.
reported="$("$SCRATCH/out/ferretdb" --version 2>&1)" || die "the built ferretdb --version failed: $reported"
[[ $reported == *"version: $VERSION"* ]] ||
  die "the built ferretdb reports '$reported', expected version $VERSION"
publish "$SCRATCH/out" "$OUT_DIR"
log "FerretDB $VERSION built in $(($(date +%s) - t0)) s: $BIN"
printf '%s\n' "$BIN"
