#!/usr/bin/env bash
# End-to-end deployment times of the `local` stack on the local control plane, from one run (figures only; the
# targets are printed next to them, nothing is asserted):
#   control-plane start  tools/cluster/cluster.sh up until every node is Ready (incl. PKI generation)
#   cold up              `pulumi up --yes` (preview + update, policy pack) from an empty cluster, until every
#                        workload is Ready
#   no-op up             the same command again (nothing to change), after and before (the baseline: the
#                        toolchain and settings of BENCH_BASELINE_REV with today's program, see bench/lib.sh),
#                        taking turns on the same deployment; median of N runs each; target after <= 0.5 x before
#   config change        a new log level: `pulumi up --yes` until the rolled workloads are Ready again
#   empty program        the preview of an empty TypeScript program (the floor), median of N runs, and the
#                        ratio no-op up / floor
#   kubectl apply        the same stack rendered to manifests (tools/render.sh) and applied twice with
#                        `kubectl apply --server-side`, then twice with client-side `kubectl apply`; the second
#                        apply of each, which changes nothing, is timed (median of N). Runs last: the render's
#                        new credentials and names replace what pulumi deployed.
#
#   bench/e2e.sh [--reps N] [--no-baseline] [--phases]          default: 3 repetitions
#
# --phases: one more no-op up per configuration, logged by the engine (--logflow -v=9, which slows it a
# little) and split into phases by bench/phases.js, printed after the figures.
#
# Uses its own cluster dir and ports (defaults + 300), a temporary backend and workspace, and stops everything it
# started. The cluster is kwok-only (LICODE_CLUSTER_REAL_NODES=0: simulated nodes, no containers), so the figures
# stay comparable with earlier runs and a running cluster's real nodes are untouched. Needs `npm run setup` first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CLUSTER="$ROOT/tools/cluster/cluster.sh"
STACK=local
REPS=3
BASELINE=1
PHASES=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="${2:?--reps needs a number}"; shift ;;
    --no-baseline) BASELINE=0 ;;
    --phases) PHASES=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "e2e.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
TMP="$(mktemp -d /tmp/licode-e2e-bench.XXXXXX)"
export LICODE_CLUSTER_DIR="$TMP/cluster"
export LICODE_CLUSTER_ETCD_PORT=$(( ${LICODE_CLUSTER_ETCD_PORT:-23379} + 300 ))
export LICODE_CLUSTER_ETCD_PEER_PORT=$(( ${LICODE_CLUSTER_ETCD_PEER_PORT:-23380} + 300 ))
export LICODE_CLUSTER_API_PORT=$(( ${LICODE_CLUSTER_API_PORT:-26443} + 300 ))
export LICODE_CLUSTER_KCM_PORT=$(( ${LICODE_CLUSTER_KCM_PORT:-20257} + 300 ))
export LICODE_CLUSTER_SCHEDULER_PORT=$(( ${LICODE_CLUSTER_SCHEDULER_PORT:-20259} + 300 ))
export LICODE_CLUSTER_KWOK_PORT=$(( ${LICODE_CLUSTER_KWOK_PORT:-20280} + 300 ))
export LICODE_CLUSTER_SIGNALLING_NODES=2
export LICODE_CLUSTER_REAL_NODES=0
export PULUMI_BACKEND_URL="file://$TMP/state"
ws=""
cleanup() {
  cd "$ROOT"
  bash "$CLUSTER" down >/dev/null 2>&1 || true
  [ -n "$ws" ] && rm -rf "$ws"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/tools/cluster/build.sh" >/dev/null
KUBECTL="$(. "$ROOT/tools/cluster/lib.sh" && printf '%s/kubectl' "$CLUSTER_BIN")"
configs=(after)
if [ "$BASELINE" = 1 ]; then
  bench_baseline_prepare "$TMP"
  configs+=(before)
fi

kctl() { bash "$CLUSTER" kubectl "$@"; }
ready() { # every workload of the namespace rolled out and Ready
  local ns=licode-local kind w
  for kind in deployment statefulset daemonset; do
    for w in $(kctl -n "$ns" get "$kind" -o name); do
      kctl -n "$ns" rollout status "$w" --timeout=300s >/dev/null
    done
  done
  kctl -n "$ns" wait --for=condition=Complete job --all --timeout=300s >/dev/null
}
# with_pass CMD...: CMD with the local stack's passphrase (inside bench_in, which defines licode_*); the
# floor's stack uses it too.
with_pass() { licode_passphrase "$STACK" && "$@"; }
# stack_up ARGS...: `pulumi up` of the stack in the workspace.
stack_up() { with_pass pulumi up --stack "$STACK" --yes --non-interactive --cwd "$ws" "$@"; }
# up CONFIG LOGNAME [ARGS...]: stack_up with the pack as CONFIG starts it.
up() {
  local config="$1" log="$TMP/$2.log"
  shift 2
  bench_in "$config" stack_up --policy-pack "$(bench_pack "$config")" \
    --policy-pack-config "$ROOT/policy/config/$STACK.json" "$@" >"$log" 2>&1 || { tail -40 "$log" >&2; exit 1; }
}
# timed_up CONFIG LOGNAME: a no-op up (pulumi fails it if anything would change); prints the seconds.
timed_up() {
  local t0 t1
  t0=$(bench_now)
  up "$1" "$2" --expect-no-changes
  t1=$(bench_now)
  bench_secs "$t0" "$t1"
}

t0=$(bench_now)
KUBECONFIG="$(bash "$CLUSTER" up 2>"$TMP/cluster-up.log" | tail -n1)" || { cat "$TMP/cluster-up.log" >&2; exit 1; }
t1=$(bench_now)
export KUBECONFIG
nodes="$(kctl get nodes --no-headers | awk '$2 == "Ready"' | wc -l)"

ws="$(bench_in after licode_workspace "$STACK")"
(cd "$ws" && bench_in after with_pass licode_ensure_stack "$STACK") >"$TMP/init.log" 2>&1 ||
  { cat "$TMP/init.log" >&2; exit 1; }

t2=$(bench_now); up after cold; ready; t3=$(bench_now)
# One untimed no-op per configuration first: it compiles the pack and warms the file cache.
for config in "${configs[@]}"; do
  up "$config" "warm-$config"
done
declare -A times
for ((i = 1; i <= REPS; i++)); do
  for config in "${configs[@]}"; do
    times[$config]+=" $(timed_up "$config" "noop-$config-$i")"
  done
done
phases=""
if [ "$PHASES" = 1 ]; then
  for config in "${configs[@]}"; do
    # The engine's log alone in its file: pulumi's own output would break its lines.
    bench_in "$config" stack_up --policy-pack "$(bench_pack "$config")" \
      --policy-pack-config "$ROOT/policy/config/$STACK.json" --expect-no-changes --logflow -v=9 --logtostderr \
      >/dev/null 2>"$TMP/phases-$config.log" || { tail -40 "$TMP/phases-$config.log" >&2; exit 1; }
    phases+="== no-op up, $config"$'\n'"$(node "$ROOT/bench/phases.js" "$TMP/phases-$config.log")"$'\n'
  done
fi
sed -i 's/^  licode:logLevel: .*/  licode:logLevel: DEBUG/' "$ws/Pulumi.$STACK.yaml"
t6=$(bench_now); up after change; ready; t7=$(bench_now)

# The floor: an empty TypeScript program's preview, with this checkout's settings.
bench_empty_program "$TMP/empty"
floor=(bench_in after with_pass pulumi preview --stack floor --non-interactive --cwd "$TMP/empty")
(cd "$TMP/empty" && bench_in after with_pass pulumi stack init floor --no-select --non-interactive) \
  >"$TMP/floor-init.log" 2>&1 || { cat "$TMP/floor-init.log" >&2; exit 1; }
bench_timed "$TMP/floor.log" "${floor[@]}" >/dev/null
for ((i = 1; i <= REPS; i++)); do
  times[floor]+=" $(bench_timed "$TMP/floor.log" "${floor[@]}")"
done

# kubectl apply of the same manifests: rendered from the same program and stack config.
bash "$ROOT/tools/render.sh" "$STACK" --out "$TMP/rendered" >"$TMP/render.log" 2>&1 || { tail -40 "$TMP/render.log" >&2; exit 1; }
manifests="$TMP/rendered/1-manifest"
apply() { "$KUBECTL" --kubeconfig "$KUBECONFIG" apply "$@" -f "$manifests"; }
bench_timed "$TMP/apply-ss-first.log" apply --server-side --force-conflicts >/dev/null
for ((i = 1; i <= REPS; i++)); do
  times[ss]+=" $(bench_timed "$TMP/apply-ss.log" apply --server-side --force-conflicts)"
done
grep -vq 'serverside-applied$' "$TMP/apply-ss.log" && { echo "bench: unexpected kubectl output:" >&2; cat "$TMP/apply-ss.log" >&2; exit 1; }
bench_timed "$TMP/apply-cs-first.log" apply >/dev/null
# "kind/name resourceVersion" of every applied object. The timed applies must leave them all as they
# were: kubectl's own words do not say, since it sends (and reports "configured" for) a patch of
# every field whose patch strategy is replace, e.g. a PodDisruptionBudget's selector, each time.
versions() {
  "$KUBECTL" --kubeconfig "$KUBECONFIG" get -f "$manifests" \
    -o jsonpath='{range .items[*]}{.kind}/{.metadata.name} {.metadata.resourceVersion}{"\n"}{end}'
}
versions_before="$(versions)"
for ((i = 1; i <= REPS; i++)); do
  times[cs]+=" $(bench_timed "$TMP/apply-cs.log" apply)"
done
versions_after="$(versions)"
[ "$versions_after" = "$versions_before" ] || {
  echo "bench: the client-side apply changed something (kind/name resourceVersion, before and after):" >&2
  diff <(printf '%s\n' "$versions_before") <(printf '%s\n' "$versions_after") >&2
  exit 1
}
objects="$(wc -l <"$TMP/apply-cs.log")"

# shellcheck disable=SC2086 # the lists are space-separated numbers
noop="$(bench_median ${times[after]})" floor="$(bench_median ${times[floor]})"
echo "e2e bench: $(bench_machine)"
echo "$STACK stack, $nodes kwok nodes; pulumi up = preview + update with the policy pack; median of $REPS runs where repeated"
printf '  control-plane start (cluster.sh up, all nodes Ready):   %6ss\n' "$(bench_secs "$t0" "$t1")"
printf '  cold up to all workloads Ready:                         %6ss\n' "$(bench_secs "$t2" "$t3")"
if [ "$BASELINE" = 1 ]; then
  # shellcheck disable=SC2086
  before="$(bench_median ${times[before]})"
  ratio="$(bench_ratio "$noop" "$before")"
  printf '  no-op up:                                               %6ss (before: %ss; after/before %s, target <= 0.50: %s)\n' \
    "$noop" "$before" "$ratio" "$(bench_target "$ratio" 0.50)"
else
  printf '  no-op up:                                               %6ss\n' "$noop"
fi
# shellcheck disable=SC2086
printf '  kubectl apply --server-side, no-op (%s objects):        %6ss\n' "$objects" "$(bench_median ${times[ss]})"
# shellcheck disable=SC2086
printf '  kubectl apply (client-side), no-op:                     %6ss\n' "$(bench_median ${times[cs]})"
printf '  empty TypeScript program preview (the floor):           %6ss (no-op up / floor: %s)\n' \
  "$floor" "$(bench_ratio "$noop" "$floor")"
printf '  config change (log level) rolled out:                   %6ss\n' "$(bench_secs "$t6" "$t7")"
[ "$BASELINE" = 0 ] || echo "  before = $BENCH_BASELINE_REV's toolchain and settings with today's program (bench/lib.sh)"
[ -z "$phases" ] || printf '\nphases (bench/phases.js; -v=9 logging slows each run a little):\n%s' "$phases"
