#!/usr/bin/env bash
# Runs the README's test command (.ci/test-command, as .ci/run reads it) from fresh clones of the repository's
# committed HEAD while busy loops hog every core, and prints per run whether it passed and the wall time of each
# `&&`-separated step, then how many runs passed. For the question "does CI pass on a busy machine, every time?"
#
#   bench/ci-under-load.sh [options]
#
# Options:
#   --runs N          runs, each from a fresh clone (default 3)
#   --cold-run K      run K starts from an empty LICODE_CACHE (a new temporary directory, removed after the run):
#                     the toolchain, manifest-lint, the cluster binaries and every other cached build are built
#                     again (Go's own module and build caches stay warm). Repeat the option for several runs.
#   --cold-only NAME  with --cold-run, empty only the cache entry NAME (a directory under the warm LICODE_CACHE,
#                     e.g. manifest-lint); every other entry is linked from the warm cache, so a cold run takes
#                     minutes instead of the hour the toolchain, cluster, node and image builds take. Repeatable.
#   --command CMD     run CMD instead of the README's test command (e.g. 'npm ci --ignore-scripts && npm test',
#                     to check this script in minutes)
#   --hogs N          busy loops to start (default: one per core, `nproc`); 0 runs on an idle machine
#   --repo DIR        the repository to clone (default: the one holding this script); its committed HEAD is
#                     cloned, so uncommitted changes are not run
#   --shared DIR      what the clone's ../shared links to (default: DIR/../shared of --repo), as the builds read
#                     ../shared/upstream
#   --out DIR         where each step's log goes (default: a new ${TMPDIR:-/tmp}/ci-under-load.XXXXXX); kept
#   --keep            keep the clones and cold caches too (under DIR/work)
#   -h, --help        this text
#
# Each step runs as `bash -euo pipefail -c STEP` in the clone with CI=true, as .ci/run runs the whole command;
# a run stops at its first failing step, as `&&` does, and the end of that step's log is printed. Exits 0 when
# every run passed, 1 otherwise. A full run takes an hour or more and keeps every core busy meanwhile.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
RUNS=3 COMMAND="" HOGS="$(nproc)" REPO="$ROOT" SHARED="" OUT="" KEEP=0
COLD=()
COLD_ONLY=()

die() { echo "ci-under-load: $*" >&2; exit 2; }
number() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 needs a whole number, got '$2'"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --runs) number "$1" "${2-}"; RUNS="$2"; shift ;;
    --cold-run) number "$1" "${2-}"; COLD+=("$2"); shift ;;
    --cold-only) [[ "${2-}" =~ ^[A-Za-z0-9._-]+$ ]] || die "--cold-only needs a cache entry's name, got '${2-}'"; COLD_ONLY+=("$2"); shift ;;
    --command) [ -n "${2-}" ] || die "--command needs a command"; COMMAND="$2"; shift ;;
    --hogs) number "$1" "${2-}"; HOGS="$2"; shift ;;
    --repo) [ -d "${2-}/.git" ] || die "--repo needs a git repository, got '${2-}'"; REPO="$(cd "$2" && pwd -P)"; shift ;;
    --shared) [ -d "${2-}" ] || die "--shared needs a directory, got '${2-}'"; SHARED="$(cd "$2" && pwd -P)"; shift ;;
    --out) [ -n "${2-}" ] || die "--out needs a directory"; OUT="$2"; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[ "$RUNS" -ge 1 ] || die "--runs must be at least 1"
for k in "${COLD[@]+"${COLD[@]}"}"; do
  { [ "$k" -ge 1 ] && [ "$k" -le "$RUNS" ]; } || die "--cold-run $k is not one of the runs 1..$RUNS"
done
if [ "${#COLD_ONLY[@]}" -gt 0 ] && [ "${#COLD[@]}" -eq 0 ]; then
  die "--cold-only names what a cold run empties: give --cold-run K too"
fi
WARM_CACHE="${LICODE_CACHE:-$HOME/.cache/licode-k8s}"
for name in "${COLD_ONLY[@]+"${COLD_ONLY[@]}"}"; do
  [ -d "$WARM_CACHE/$name" ] || die "--cold-only $name: $WARM_CACHE has no entry $name (it has: $(ls "$WARM_CACHE" | tr '\n' ' '))"
done
SHARED="${SHARED:-$(cd "$REPO/.." && pwd -P)/shared}"
[ -d "$SHARED" ] || die "$SHARED does not exist: the builds read ../shared/upstream; pass --shared DIR"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ci-under-load.XXXXXX")}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd -P)"
WORK="$OUT/work"
mkdir -p "$WORK"

# Busy loops, one per core. Each looks about ten times a second whether this script is still its parent (a
# killed script's children are handed to another process at once), so none outlives it even when the script is
# killed without running its trap.
hogs=()
# remove DIR: caches may hold read-only directories (Go's module copies).
remove() {
  chmod -R u+w "$1" 2>/dev/null || true
  rm -rf "$1"
}
stop_hogs() {
  if [ ${#hogs[@]} -gt 0 ]; then
    kill "${hogs[@]}" 2>/dev/null || true
    wait "${hogs[@]}" 2>/dev/null || true
    hogs=()
  fi
}
cleanup() {
  stop_hogs
  if [ "$KEEP" = 0 ]; then
    remove "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for ((h = 0; h < HOGS; h++)); do
  sh -c 'while read -r _ _ _ parent _ </proc/$$/stat && [ "$parent" = "$1" ]; do
           i=0; while [ "$i" -lt 20000 ]; do i=$((i + 1)); done
         done' ci-under-load-hog "$$" &
  hogs+=("$!")
done

head_commit="$(git -C "$REPO" rev-parse --short HEAD)"
echo "ci-under-load: $(bench_machine); $HOGS busy loops; $REPO at $head_commit; logs in $OUT"

is_cold() {
  local k
  for k in "${COLD[@]+"${COLD[@]}"}"; do [ "$k" = "$1" ] && return 0; done
  return 1
}

passed=0
for ((run = 1; run <= RUNS; run++)); do
  dir="$WORK/run-$run"
  remove "$dir" # left by a killed run with the same --out
  mkdir -p "$dir" "$OUT/run-$run"
  git clone -q "$REPO" "$dir/licode-k8s"
  ln -sfn "$SHARED" "$dir/shared"
  cmd="$COMMAND"
  [ -n "$cmd" ] || cmd="$("$ROOT/.ci/test-command" "$dir/licode-k8s/README.md")"
  env=(CI=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false)
  cache_note="warm LICODE_CACHE ($WARM_CACHE)"
  if is_cold "$run"; then
    mkdir -p "$dir/cache"
    env+=("LICODE_CACHE=$dir/cache")
    cache_note="cold LICODE_CACHE ($dir/cache, empty)"
    if [ "${#COLD_ONLY[@]}" -gt 0 ]; then
      for entry in "$WARM_CACHE"/*; do
        name="$(basename "$entry")"
        cold=0
        for c in "${COLD_ONLY[@]}"; do [ "$c" = "$name" ] && cold=1; done
        [ "$cold" = 1 ] || ln -s "$entry" "$dir/cache/$name"
      done
      cache_note="LICODE_CACHE $dir/cache: cold ${COLD_ONLY[*]}; every other entry linked from $WARM_CACHE"
    fi
  fi

  # The steps: the command split at each `&&` (the README's is a plain chain of commands).
  steps=()
  rest="$cmd"
  while [[ "$rest" == *"&&"* ]]; do
    steps+=("${rest%%&&*}")
    rest="${rest#*&&}"
  done
  steps+=("$rest")

  echo
  echo "run $run of $RUNS: fresh clone, $cache_note"
  ok=1 t_run=$(bench_now)
  for ((s = 0; s < ${#steps[@]}; s++)); do
    step="$(echo "${steps[s]}" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"
    log="$OUT/run-$run/$((s + 1)).log"
    t0=$(bench_now)
    if (cd "$dir/licode-k8s" && env "${env[@]}" bash -euo pipefail -c "$step") >"$log" 2>&1; then
      status=ok
    else
      status="FAILED (exit $?)"
    fi
    printf '  %6ss  %-7s %s\n' "$(bench_secs "$t0" "$(bench_now)")" "${status%% *}" "$step"
    if [ "$status" != ok ]; then
      ok=0
      echo "  $step: $status; the end of $log:"
      tail -40 "$log" | sed 's/^/    | /'
      break
    fi
  done
  if [ "$ok" = 1 ]; then
    passed=$((passed + 1))
    echo "run $run: PASS in $(bench_secs "$t_run" "$(bench_now)") s"
  else
    echo "run $run: FAIL after $(bench_secs "$t_run" "$(bench_now)") s"
  fi
  if [ "$KEEP" = 0 ]; then
    remove "$dir"
  fi
done

echo
echo "ci-under-load: $passed of $RUNS runs passed (cold: ${COLD[*]:-none}${COLD_ONLY[*]:+, only ${COLD_ONLY[*]}}; $HOGS busy loops; $head_commit)"
[ "$passed" = "$RUNS" ]
