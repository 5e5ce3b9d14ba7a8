#!/usr/bin/env bash
# Wall times of the engine commands, per stack (figures only, no thresholds):
#   preview with the policy pack (as tools/preview.sh runs it) and without, their ratio (one run each),
#   render (tools/render.sh, a full `pulumi up` in render mode),
# plus the toolchain's warm check (tools/build-toolchain.sh and tools/setup.sh with everything cached).
# The cold toolchain build is measured by bench/toolchain.sh.
#
#   bench/engine.sh [STACK...]      default: dev prod
#
# Runs against a temporary backend (removed afterwards) with a throwaway passphrase, and renders into a
# temporary directory, so neither .pulumi-state/ nor rendered/ is touched. KUBECONFIG is ignored (no cluster).
# One untimed preview first warms the OS file cache and Node's compile cache.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
case "${1:-}" in -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;; esac
stacks=("$@")
[ ${#stacks[@]} -gt 0 ] || stacks=(dev prod)

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
# shellcheck source=tools/pulumi-env.sh
. "$ROOT/tools/pulumi-env.sh" || exit 1

now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$2 - $1" | bc)"; }
# timed LOG CMD...: runs CMD with its output in LOG; prints the wall seconds; fails loudly.
timed() {
  local log="$1" t0 t1
  shift
  t0=$(now)
  if ! "$@" >"$log" 2>&1; then
    echo "bench: '$*' failed; its output:" >&2
    tail -40 "$log" >&2
    exit 1
  fi
  t1=$(now)
  secs "$t0" "$t1"
}

t_toolchain=$(timed "$WORK/toolchain.log" "$ROOT/tools/build-toolchain.sh")
t_setup=$(timed "$WORK/setup.log" bash "$ROOT/tools/setup.sh")

printf '%-6s %14s %14s %7s %9s\n' stack "preview+pack" "preview" ratio render
for stack in "${stacks[@]}"; do
  ws="$(licode_workspace "$stack")"
  (cd "$ws" && pulumi stack init "$stack" --no-select --non-interactive) >"$WORK/init-$stack.log" 2>&1 ||
    { cat "$WORK/init-$stack.log" >&2; exit 1; }
  preview=(pulumi preview --stack "$stack" --non-interactive --cwd "$ws")
  pack=(--policy-pack "$ROOT/policy")
  [ ! -f "$ROOT/policy/config/$stack.json" ] || pack+=(--policy-pack-config "$ROOT/policy/config/$stack.json")
  if [ "$stack" = "${stacks[0]}" ]; then
    timed "$WORK/warmup.log" "${preview[@]}" >/dev/null
  fi
  t_plain=$(timed "$WORK/preview-$stack.log" "${preview[@]}")
  t_pack=$(timed "$WORK/preview-pack-$stack.log" "${preview[@]}" "${pack[@]}")
  rm -rf "$ws"
  ws=""
  t_render=$(timed "$WORK/render-$stack.log" bash "$ROOT/tools/render.sh" "$stack" --out "$WORK/rendered-$stack")
  printf '%-6s %13ss %13ss %7s %8ss\n' "$stack" "$t_pack" "$t_plain" \
    "$(printf '%.2f' "$(echo "$t_pack / $t_plain" | bc -l)")" "$t_render"
done
echo "toolchain warm check (tools/build-toolchain.sh): ${t_toolchain}s; npm run setup, warm: ${t_setup}s"
echo "cold toolchain build: see bench/toolchain.sh"
