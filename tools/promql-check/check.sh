#!/usr/bin/env bash
# `npm run lint:promql`: parses every PromQL expression the program ships with Prometheus's own parser
# (github.com/prometheus/prometheus/promql/parser, the version pinned in tools/promql-check/go.mod):
# the alerting rules of components/monitoring/alerts.ts and the Grafana dashboard's queries of
# components/monitoring/dashboard.ts (Grafana variables substituted), as tools/promql-check/extract.ts
# collects them. An alert must yield an instant vector, a dashboard query an instant vector or a scalar.
#
#   1. build (or reuse) the promql-check binary, cached under
#      ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/promql-check-<hash of go.mod, go.sum, main.go>/promql-check
#      (GOTOOLCHAIN=local, CGO_ENABLED=0, GOFLAGS=-mod=readonly: go.sum is committed and must already
#      hold every checksum; needs only the Go module proxy, and nothing once the module cache is warm)
#   2. node_modules/.bin/ts-node --transpile-only tools/promql-check/extract.ts > expressions.json
#   3. promql-check < expressions.json: one "name: error" line per problem, or "N expressions parse"
#
# Options:
#   --force        rebuild the binary (ignore the cache)
#   -h, --help     this text
# Exit status: 0 every expression parses; 1 a problem in an expression; 2 usage, build or extraction error.
# The Go unit tests are not run here: (cd tools/promql-check && GOTOOLCHAIN=local GOWORK=off
# GOFLAGS=-mod=readonly CGO_ENABLED=0 go test -count=1 ./...).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd -P)"
log() { printf '[promql-check] %s\n' "$*" >&2; }
die() { printf '[promql-check] ERROR: %s\n' "$*" >&2; exit 2; }

force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) echo "lint:promql: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

for tool in go flock sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH"
done
[ -x "$ROOT/node_modules/.bin/ts-node" ] || die "node_modules/.bin/ts-node is missing: run npm run setup"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
elapsed() { # elapsed T0_MS: seconds since T0_MS, one decimal
  local ms=$(($(now_ms) - $1))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}
t0=$(now_ms)

# ---- 1. The binary, keyed by the module's sources. ----
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly
SOURCES=(go.mod go.sum main.go)
key() { (cd "$1" && sha256sum "${SOURCES[@]}") | sed 's/ .*//' | sha256sum | cut -c1-12; }
CACHE_ROOT="${LICODE_CACHE:-$HOME/.cache/licode-k8s}"
mkdir -p "$CACHE_ROOT"
CACHE_ROOT="$(cd "$CACHE_ROOT" && pwd -P)"
version_key="$(key "$SCRIPT_DIR")"
BIN_DIR="$CACHE_ROOT/promql-check-$version_key"
bin="$BIN_DIR/promql-check"

if [ "$force" = 0 ] && [ -x "$bin" ]; then
  log "promql-check-$version_key: cached"
else
  # One build at a time per cache; the published directory is complete by construction (renamed into place).
  exec 9>"$CACHE_ROOT/.promql-check.lock"
  flock -w "${LICODE_PROMQL_CHECK_LOCK_TIMEOUT:-1800}" 9 || die "timed out waiting for $CACHE_ROOT/.promql-check.lock"
  if [ "$force" = 0 ] && [ -x "$bin" ]; then
    log "promql-check-$version_key: built meanwhile by another run"
  else
    log "building promql-check-$version_key ($(sed -n 's/^require github.com\/prometheus\/prometheus /prometheus /p' "$SCRIPT_DIR/go.mod"))"
    tb=$(now_ms)
    tmp_build="$(mktemp -d "$CACHE_ROOT/.tmp-promql-check.XXXXXX")"
    trap 'rm -rf "$tmp_build"' EXIT
    mkdir "$tmp_build/src" "$tmp_build/out"
    (cd "$SCRIPT_DIR" && cp "${SOURCES[@]}" "$tmp_build/src/")
    # Build exactly what was hashed (the work tree may change while go runs).
    [ "$(key "$tmp_build/src")" = "$version_key" ] || die "tools/promql-check changed during the build; run again"
    (cd "$tmp_build/src" && go build -trimpath -ldflags "-s -w" -o "$tmp_build/out/promql-check" . >&2) ||
      die "go build failed (see the Go output above)"
    printf '[{"name": "self-test", "expr": "up", "kind": "alert"}]' | "$tmp_build/out/promql-check" >/dev/null ||
      die "the built binary fails its self-test"
    cp "$SCRIPT_DIR/go.mod" "$tmp_build/out/SOURCE"
    if [ -e "$BIN_DIR" ]; then rm -rf "$BIN_DIR"; fi
    mv -T "$tmp_build/out" "$BIN_DIR"
    rm -rf "$tmp_build"
    trap - EXIT
    log "built $bin in $(elapsed "$tb") s"
  fi
  exec 9>&-
fi

# ---- 2. The expressions. ----
json="$(mktemp "${TMPDIR:-/tmp}/licode-promql.XXXXXX")"
trap 'rm -f "$json"' EXIT
# extract.ts exits 3 when a query uses a Grafana variable it has no value for (it names the query on stderr).
set +e
(cd "$ROOT" && node_modules/.bin/ts-node --transpile-only tools/promql-check/extract.ts >"$json")
rc=$?
set -e
case "$rc" in
  0) ;;
  3) log "done in $(elapsed "$t0") s (exit 1)"; exit 1 ;;
  *) die "tools/promql-check/extract.ts failed (exit $rc, see above)" ;;
esac

# ---- 3. The check. ----
set +e
"$bin" <"$json"
rc=$?
set -e
log "done in $(elapsed "$t0") s (exit $rc)"
exit "$rc"
