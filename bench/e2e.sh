#!/usr/bin/env bash
# End-to-end deployment times of the `local` stack on the local control plane, from one run:
#   control-plane start  tools/cluster/cluster.sh up until every node is Ready (incl. PKI generation)
#   cold up              `pulumi up --yes` (preview + update, policy pack) from an empty cluster, until
#                        every workload is Ready
#   no-op up             the same command again (nothing to change)
#   config change        a new log level: `pulumi up --yes` until the rolled workloads are Ready again
# Figures only; nothing is asserted. Uses its own cluster dir and ports (defaults + 300), a temporary
# backend and workspace, and stops everything it started. Needs `npm run setup` first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
CLUSTER="$ROOT/tools/cluster/cluster.sh"
STACK=local

TMP="$(mktemp -d /tmp/licode-e2e-bench.XXXXXX)"
export LICODE_CLUSTER_DIR="$TMP/cluster"
export LICODE_CLUSTER_ETCD_PORT=$(( ${LICODE_CLUSTER_ETCD_PORT:-23379} + 300 ))
export LICODE_CLUSTER_ETCD_PEER_PORT=$(( ${LICODE_CLUSTER_ETCD_PEER_PORT:-23380} + 300 ))
export LICODE_CLUSTER_API_PORT=$(( ${LICODE_CLUSTER_API_PORT:-26443} + 300 ))
export LICODE_CLUSTER_KCM_PORT=$(( ${LICODE_CLUSTER_KCM_PORT:-20257} + 300 ))
export LICODE_CLUSTER_SCHEDULER_PORT=$(( ${LICODE_CLUSTER_SCHEDULER_PORT:-20259} + 300 ))
export LICODE_CLUSTER_KWOK_PORT=$(( ${LICODE_CLUSTER_KWOK_PORT:-20280} + 300 ))
export LICODE_CLUSTER_SIGNALLING_NODES=2
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

# shellcheck source=../tools/pulumi-env.sh
. "$ROOT/tools/pulumi-env.sh"
licode_passphrase "$STACK"
"$ROOT/tools/cluster/build.sh" >/dev/null

now() { date +%s.%N; }
secs() { awk "BEGIN{printf \"%.1f\", $2 - $1}"; }
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
up() { # up LOGNAME
  pulumi up --stack "$STACK" --yes --non-interactive \
    --policy-pack "$ROOT/policy" --policy-pack-config "$ROOT/policy/config/$STACK.json" >"$TMP/$1.log" 2>&1 \
    || { tail -40 "$TMP/$1.log" >&2; exit 1; }
}

t0=$(now)
KUBECONFIG="$(bash "$CLUSTER" up 2>"$TMP/cluster-up.log" | tail -n1)" || { cat "$TMP/cluster-up.log" >&2; exit 1; }
t1=$(now)
export KUBECONFIG
nodes="$(kctl get nodes --no-headers | awk '$2 == "Ready"' | wc -l)"

ws="$(licode_workspace "$STACK")"
cd "$ws"
licode_ensure_stack "$STACK" 2>/dev/null

t2=$(now); up cold; ready; t3=$(now)
t4=$(now); up noop; t5=$(now)
sed -i 's/^  licode:logLevel: .*/  licode:logLevel: DEBUG/' "Pulumi.$STACK.yaml"
t6=$(now); up change; ready; t7=$(now)

echo "e2e ($STACK stack, $nodes kwok nodes, pulumi up = preview + update with the policy pack):"
printf '  control-plane start (cluster.sh up, all nodes Ready): %s s\n' "$(secs "$t0" "$t1")"
printf '  cold up to all workloads Ready:                       %s s\n' "$(secs "$t2" "$t3")"
printf '  no-op up:                                             %s s\n' "$(secs "$t4" "$t5")"
printf '  config change (log level) rolled out:                 %s s\n' "$(secs "$t6" "$t7")"
