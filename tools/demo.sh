#!/usr/bin/env bash
# `npm run demo [-- --keep]`: the whole deployment from a fresh clone, on this machine:
#   1. `npm run setup`: the offline Pulumi toolchain and both node_modules (seconds when cached);
#   2. the local cluster (tools/cluster): the control plane and five real nodes (tools/node: containerd
#      and a kubelet each, in network namespaces of their own), two of them signalling nodes so
#      ErizoController's surge rollout has its spare node; root only (LICODE_CLUSTER_REAL_NODES=0 gives
#      kwok's simulated nodes instead, without root, where nothing runs);
#   3. the images the `local` stack runs, built here and imported into every node (tools/images/
#      local-stack.sh: Licode v10 from its source with a stand-in for the native media addon, RabbitMQ
#      from Debian, a MongoDB-wire stand-in, coturn from Debian); cached after the first build;
#   4. `pulumi up --refresh -s local` with the policy pack and policy/config/local.json (preview first,
#      so a mandatory violation stops it before anything changes), each image pinned by its digest;
#   5. the stack outputs, every Licode workload waited for and listed, and, on real nodes, a Licode
#      session through the deployment (npm run smoke: room, token, join, publish, subscribe, stats).
#
# Pulumi runs in a temporary copy of the project (tools/pulumi-env.sh), so Pulumi.local.yaml is never
# written (no encryptionsalt, no digests); the state lives in the gitignored .pulumi-state, the cluster in
# the gitignored .cluster. `--refresh` reconciles that state with the cluster, which starts empty each
# time it is started. The `local` stack's passphrase is the documented default (licode-dev-only).
#
# A cluster the demo started is stopped when it ends (pass or fail) unless --keep is given; a
# cluster that was already running is left running. Stop it with `npm run cluster:down`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
STACK=local
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '\n[demo] %s (%d s in)\n' "$*" "$SECONDS" >&2; }
CLUSTER="$ROOT/tools/cluster/cluster.sh"
kctl() { bash "$CLUSTER" kubectl "$@"; }

# 1. Toolchain and packages.
log "1/5 toolchain and packages (npm run setup)"
bash "$ROOT/tools/setup.sh"

# 2. Cluster.
export LICODE_CLUSTER_SIGNALLING_NODES="${LICODE_CLUSTER_SIGNALLING_NODES:-2}"
REAL_NODES="${LICODE_CLUSTER_REAL_NODES:-1}"
if [ "$REAL_NODES" = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "[demo] real nodes need root (network namespaces, cgroups, containerd); run as root, or set" >&2
  echo "[demo] LICODE_CLUSTER_REAL_NODES=0 for kwok's simulated nodes (the stack deploys, nothing runs)." >&2
  exit 2
fi
started_cluster=0
ws=""
cleanup() {
  local rc=$?
  cd "$ROOT"
  [ -n "$ws" ] && rm -rf "$ws"
  if [ "$started_cluster" = 1 ] && [ "$KEEP" = 0 ]; then
    log "stopping the cluster this demo started (npm run demo -- --keep leaves it running)"
    bash "$CLUSTER" down >&2 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if bash "$CLUSTER" status >/dev/null 2>&1; then
  log "2/5 local cluster: already running, using it"
else
  log "2/5 local cluster (tools/cluster/cluster.sh up$([ "$REAL_NODES" = 1 ] && echo ", real nodes"))"
  started_cluster=1
fi
KUBECONFIG="$(bash "$CLUSTER" up | tail -n1)"
export KUBECONFIG
signalling="$(kctl get nodes -l licode.io/signalling=true --no-headers 2>/dev/null | wc -l)"
if [ "$signalling" -lt 2 ]; then
  echo "[demo] warning: $signalling signalling node(s); ErizoController (maxSurge 1, required anti-affinity) needs a spare one to roll." >&2
  echo "[demo]          Restart the cluster with LICODE_CLUSTER_SIGNALLING_NODES=2 (npm run cluster:down first)." >&2
fi

# 3. Images.
digests=""
if [ "$REAL_NODES" = 1 ]; then
  log "3/5 images: build (cached) and import into every node (tools/images/local-stack.sh --import)"
  digests="$(bash "$ROOT/tools/images/local-stack.sh" --import)"
  printf '%s\n' "$digests" >&2
else
  log "3/5 images: none (kwok nodes run no containers; the stack names its images by tag)"
fi

# 4. Deploy.
log "4/5 pulumi up --refresh -s $STACK with the policy pack (policy/config/$STACK.json)"
# shellcheck source=tools/pulumi-env.sh
. "$ROOT/tools/pulumi-env.sh"
licode_passphrase "$STACK"
ws="$(licode_workspace "$STACK")"
cd "$ws"
licode_ensure_stack "$STACK"
# Each image by the digest just built (the workspace's copy of Pulumi.local.yaml only).
while read -r key digest; do
  if [ -n "$key" ]; then pulumi config set --stack "$STACK" --path "$key" "$digest"; fi
done <<<"$digests"
pulumi up --stack "$STACK" --yes --refresh --non-interactive \
  --policy-pack "$ROOT/policy" --policy-pack-config "$ROOT/policy/config/$STACK.json"

# 5. Outputs, workloads, and a session.
log "5/5 stack outputs, workloads$([ "$REAL_NODES" = 1 ] && echo ", and a Licode session through them")"
pulumi stack output --stack "$STACK"
ns="$(pulumi stack output --stack "$STACK" namespaceName)"
for kind in deployment statefulset daemonset; do
  for w in $(kctl -n "$ns" get "$kind" -o name); do
    kctl -n "$ns" rollout status "$w" --timeout=120s >/dev/null
  done
done
kctl -n "$ns" wait --for=condition=Complete job --all --timeout=120s >/dev/null
echo
kctl -n "$ns" get deployments,statefulsets,daemonsets,jobs
echo
kctl -n "$ns" get services,persistentvolumeclaims
kctl get persistentvolumes -l "app.kubernetes.io/instance=licode-$STACK"
echo
echo "[demo] every Licode workload in namespace $ns is Ready (KUBECONFIG=$KUBECONFIG)."
if [ "$REAL_NODES" = 1 ]; then
  echo
  echo "[demo] a Licode session through the deployment (npm run smoke -- $STACK --expect-ready):"
  (cd "$ROOT" && node --require ts-node/register/transpile-only tools/smoke/cli.ts "$STACK" --expect-ready)
  echo
  echo "[demo] media does not flow: the Licode image carries a stand-in for its native media addon (README \"Licode built here\")."
fi
