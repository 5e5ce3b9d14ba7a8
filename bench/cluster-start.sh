#!/usr/bin/env bash
# Control-plane start time: wall time of `tools/cluster/cluster.sh up` (etcd, kube-apiserver, KCM,
# scheduler, kwok, StorageClass, nodes) until every simulated node is Ready, from one run.
# The binaries are built (or found in the cache) first and that time is not counted. The run uses
# its own state dir and ports (+100 from the defaults), so a cluster that is already up is untouched.
# It measures the kwok-only cluster (LICODE_CLUSTER_REAL_NODES=0), as its figures always have: real
# nodes (cluster.sh's default) take longer, need root, and would claim the host addresses, bridge and
# network namespaces of a running cluster's nodes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER="$ROOT/tools/cluster/cluster.sh"

"$ROOT/tools/cluster/build.sh" >/dev/null

LICODE_CLUSTER_DIR="$(mktemp -d /tmp/licode-cluster-bench.XXXXXX)"
export LICODE_CLUSTER_DIR
export LICODE_CLUSTER_ETCD_PORT=$(( ${LICODE_CLUSTER_ETCD_PORT:-23379} + 100 ))
export LICODE_CLUSTER_ETCD_PEER_PORT=$(( ${LICODE_CLUSTER_ETCD_PEER_PORT:-23380} + 100 ))
export LICODE_CLUSTER_API_PORT=$(( ${LICODE_CLUSTER_API_PORT:-26443} + 100 ))
export LICODE_CLUSTER_KCM_PORT=$(( ${LICODE_CLUSTER_KCM_PORT:-20257} + 100 ))
export LICODE_CLUSTER_SCHEDULER_PORT=$(( ${LICODE_CLUSTER_SCHEDULER_PORT:-20259} + 100 ))
export LICODE_CLUSTER_KWOK_PORT=$(( ${LICODE_CLUSTER_KWOK_PORT:-20280} + 100 ))
export LICODE_CLUSTER_REAL_NODES=0
cleanup() { "$CLUSTER" down >/dev/null 2>&1 || true; rm -rf "$LICODE_CLUSTER_DIR"; }
trap cleanup EXIT

# PKI generation is a one-off per state dir (later `up`s reuse it); do it outside the timing.
t0=$(date +%s.%N)
"$CLUSTER" up >/dev/null 2>"$LICODE_CLUSTER_DIR/first-up.log" || { cat "$LICODE_CLUSTER_DIR/first-up.log" >&2; exit 1; }
t1=$(date +%s.%N)
"$CLUSTER" down >/dev/null 2>&1

t2=$(date +%s.%N)
"$CLUSTER" up >/dev/null 2>"$LICODE_CLUSTER_DIR/up.log" || { cat "$LICODE_CLUSTER_DIR/up.log" >&2; exit 1; }
t3=$(date +%s.%N)
nodes="$("$CLUSTER" kubectl get nodes --no-headers | awk '$2 == "Ready"' | wc -l)"
printf 'control-plane start (cluster.sh up until all %s nodes Ready): %.1f s\n' "$nodes" "$(awk "BEGIN{print $t3 - $t2}")"
printf 'first start incl. PKI generation: %.1f s\n' "$(awk "BEGIN{print $t1 - $t0}")"
