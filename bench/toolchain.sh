#!/usr/bin/env bash
# Time tools/build-toolchain.sh: a first ("cold") run, then a second ("warm") run that should only check the cache.
#
#   bench/toolchain.sh                  first run against the normal cache (cold only if nothing is cached yet)
#   bench/toolchain.sh --empty-cache    first run against an empty LICODE_CACHE (the Go module/build caches stay warm)
#   bench/toolchain.sh --empty-go-cache like --empty-cache, and also empty GOCACHE and GOMODCACHE (downloads everything
#                                       again through the Go proxy; expect tens of minutes on 2 cores)
#   --keep                              keep the temporary cache dirs (printed) instead of deleting them
#
# Plugins are installed into a temporary PULUMI_HOME, so the bench never touches ~/.pulumi.
# Output: one line per run ("cold_build_seconds=N", "warm_check_seconds=N") on stdout; build logs on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMPTY_CACHE=0
EMPTY_GO_CACHE=0
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --empty-cache) EMPTY_CACHE=1 ;;
    --empty-go-cache) EMPTY_CACHE=1; EMPTY_GO_CACHE=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/licode-toolchain-bench.XXXXXX")"
cleanup() {
  if [ "$KEEP" = 1 ]; then
    echo "kept: $WORK" >&2
  else
    chmod -R u+w "$WORK" 2>/dev/null || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

export PULUMI_HOME="$WORK/pulumi-home"
if [ "$EMPTY_CACHE" = 1 ]; then
  export LICODE_CACHE="$WORK/cache"
fi
if [ "$EMPTY_GO_CACHE" = 1 ]; then
  export GOCACHE="$WORK/gocache" GOMODCACHE="$WORK/gomodcache"
fi

now() { date +%s.%N; }
run() { # run LABEL
  local t0 t1 bin
  t0="$(now)"
  bin="$("$ROOT/tools/build-toolchain.sh" | tail -n1)"
  t1="$(now)"
  awk -v l="$1" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s_seconds=%.1f\n", l, b - a }'
  printf '%s\n' "$bin" >"$WORK/bin-$1"
}

echo "cache: ${LICODE_CACHE:-$HOME/.cache/licode-k8s} (empty at start: $([ "$EMPTY_CACHE" = 1 ] && echo yes || echo no))" >&2
run cold_build
run warm_check
bin="$(cat "$WORK/bin-warm_check")"
echo "bin dir: $bin" >&2
"$bin/pulumi" version >&2
