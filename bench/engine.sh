#!/usr/bin/env bash
# Wall times of the engine commands, per stack, with no cluster (figures only; the targets are printed next to
# them, nothing is asserted):
#   preview with the policy pack (as tools/preview.sh runs it) and without, and their ratio (target <= 1.15);
#   the same for the baseline ("before": the toolchain and settings of BENCH_BASELINE_REV, see bench/lib.sh);
#   render (tools/render.sh, a full `pulumi up` in render mode);
# then an empty TypeScript program's preview (the floor) before and after, and the toolchain's warm check
# (tools/build-toolchain.sh and tools/setup.sh with everything cached). The cold toolchain build is measured by
# bench/toolchain.sh.
#
#   bench/engine.sh [--reps N] [--no-baseline] [--phases] [STACK...]      default: 5 repetitions, dev prod
#
# --phases: after the figures, one more preview of the first stack per configuration, with and without the
# pack, logged by the engine (--logflow -v=9, which slows it a little) and split into phases by bench/phases.js.
#
# Each figure is the median of N runs; the configurations take turns (after without pack, after with, before
# without, before with), so they share the machine's conditions. One untimed preview per configuration first
# warms the OS file cache and compiles the pack. Runs against a temporary backend (removed afterwards) with a
# throwaway passphrase and renders into a temporary directory, so neither .pulumi-state/ nor rendered/ is
# touched. KUBECONFIG is ignored (no cluster).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REPS=5
BASELINE=1
PHASES=0
stacks=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="${2:?--reps needs a number}"; shift ;;
    --no-baseline) BASELINE=0 ;;
    --phases) PHASES=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "engine.sh: unknown option $1" >&2; exit 2 ;;
    *) stacks+=("$1") ;;
  esac
  shift
done
[ ${#stacks[@]} -gt 0 ] || stacks=(dev prod)

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
unset KUBECONFIG
WORK="$(mktemp -d "${TMPDIR:-/tmp}/licode-engine-bench.XXXXXX")"
ws=""
cleanup() {
  [ -z "$ws" ] || rm -rf "$ws"
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/state"
export PULUMI_BACKEND_URL="file://$WORK/state"
export PULUMI_CONFIG_PASSPHRASE="licode-bench-throwaway"
unset PULUMI_CONFIG_PASSPHRASE_FILE

t_toolchain=$(bench_timed "$WORK/toolchain.log" "$ROOT/tools/build-toolchain.sh")
t_setup=$(bench_timed "$WORK/setup.log" bash "$ROOT/tools/setup.sh")
configs=(after)
if [ "$BASELINE" = 1 ]; then
  bench_baseline_prepare "$WORK"
  configs+=(before)
fi

# preview_args CONFIG DIR STACK [pack|nopack]: sets ARGS to that preview's command line.
preview_args() {
  ARGS=(pulumi preview --stack "$3" --non-interactive --cwd "$2")
  if [ "${4:-nopack}" = pack ]; then
    ARGS+=(--policy-pack "$(bench_pack "$1")")
    [ ! -f "$ROOT/policy/config/$3.json" ] || ARGS+=(--policy-pack-config "$ROOT/policy/config/$3.json")
  fi
}
# preview CONFIG DIR STACK [pack|nopack]: one timed preview, printed in seconds.
preview() {
  preview_args "$@"
  bench_timed "$WORK/preview-$1-$3-${4:-nopack}.log" bench_in "$1" "${ARGS[@]}"
}

declare -A times
phases=""
echo "engine bench: $(bench_machine)"
echo "median of $REPS runs per figure; before = $BENCH_BASELINE_REV's toolchain and settings with today's program"
if [ "$BASELINE" = 1 ]; then
  printf '%-6s %13s %9s %8s %-20s | %13s %9s %8s | %8s\n' stack "preview+pack" preview ratio "(target <= 1.15)" \
    "before: +pack" preview ratio render
else
  printf '%-6s %13s %9s %8s %-20s | %8s\n' stack "preview+pack" preview ratio "(target <= 1.15)" render
fi
for stack in "${stacks[@]}"; do
  ws="$(bench_in after licode_workspace "$stack")"
  (cd "$ws" && bench_in after pulumi stack init "$stack" --no-select --non-interactive) >"$WORK/init-$stack.log" 2>&1 ||
    { cat "$WORK/init-$stack.log" >&2; exit 1; }
  for config in "${configs[@]}"; do
    preview "$config" "$ws" "$stack" pack >/dev/null
  done
  for ((i = 1; i <= REPS; i++)); do
    for config in "${configs[@]}"; do
      for mode in nopack pack; do
        times[$config-$mode]+=" $(preview "$config" "$ws" "$stack" "$mode")"
      done
    done
  done
  if [ "$PHASES" = 1 ] && [ "$stack" = "${stacks[0]}" ]; then
    for config in "${configs[@]}"; do
      for mode in nopack pack; do
        preview_args "$config" "$ws" "$stack" "$mode"
        bench_in "$config" "${ARGS[@]}" --logflow -v=9 --logtostderr >/dev/null 2>"$WORK/phases.log" ||
          { tail -40 "$WORK/phases.log" >&2; exit 1; }
        phases+="== $stack preview, $config, $mode"$'\n'"$(node "$ROOT/bench/phases.js" "$WORK/phases.log")"$'\n'
      done
    done
  fi
  rm -rf "$ws"
  ws=""
  t_render=$(bench_timed "$WORK/render-$stack.log" bash "$ROOT/tools/render.sh" "$stack" --out "$WORK/rendered-$stack")
  # shellcheck disable=SC2086 # the lists are space-separated numbers
  pack=$(bench_median ${times[after-pack]}) plain=$(bench_median ${times[after-nopack]})
  ratio=$(bench_ratio "$pack" "$plain")
  line=$(printf '%-6s %12ss %8ss %8s %-20s' "$stack" "$pack" "$plain" "$ratio" "($(bench_target "$ratio" 1.15))")
  if [ "$BASELINE" = 1 ]; then
    # shellcheck disable=SC2086
    bpack=$(bench_median ${times[before-pack]}) bplain=$(bench_median ${times[before-nopack]})
    line+=$(printf ' | %12ss %8ss %8s' "$bpack" "$bplain" "$(bench_ratio "$bpack" "$bplain")")
  fi
  printf '%s | %7ss\n' "$line" "$t_render"
  unset 'times[after-pack]' 'times[after-nopack]' 'times[before-pack]' 'times[before-nopack]'
done

# The floor: an empty program's preview, in each configuration.
bench_empty_program "$WORK/empty"
(cd "$WORK/empty" && bench_in after pulumi stack init floor --no-select --non-interactive) >"$WORK/init-floor.log" 2>&1 ||
  { cat "$WORK/init-floor.log" >&2; exit 1; }
for config in "${configs[@]}"; do
  preview "$config" "$WORK/empty" floor >/dev/null
done
for ((i = 1; i <= REPS; i++)); do
  for config in "${configs[@]}"; do
    times[floor-$config]+=" $(preview "$config" "$WORK/empty" floor)"
  done
done
# shellcheck disable=SC2086
floor="empty TypeScript program (the floor), preview: $(bench_median ${times[floor-after]})s"
# shellcheck disable=SC2086
[ "$BASELINE" = 0 ] || floor+=" (before: $(bench_median ${times[floor-before]})s)"
echo "$floor"
echo "toolchain warm check (tools/build-toolchain.sh): ${t_toolchain}s; npm run setup, warm: ${t_setup}s"
echo "cold toolchain build: see bench/toolchain.sh"
[ -z "$phases" ] || printf '\nphases (bench/phases.js; -v=9 logging slows each run a little):\n%s' "$phases"
