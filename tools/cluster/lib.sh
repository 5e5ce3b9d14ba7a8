# Shared settings for tools/cluster/{build,cluster}.sh. Sourced, not executed.
# shellcheck shell=bash

CLUSTER_TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CLUSTER_TOOLS_DIR/../.." && pwd)"   # used by cluster.sh
export REPO_ROOT

# shellcheck source=versions.env
. "$CLUSTER_TOOLS_DIR/versions.env"

CLUSTER_CACHE_ROOT="${LICODE_CACHE:-$HOME/.cache/licode-k8s}/cluster"
CLUSTER_CACHE_KEY="${K8S_VERSION}-${ETCD_VERSION}-${KWOK_VERSION}"
CLUSTER_BIN="$CLUSTER_CACHE_ROOT/$CLUSTER_CACHE_KEY/bin"
CLUSTER_BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

# True when the cached bin dir is complete (it only ever appears by an atomic rename,
# so a partial build can't match; the file check guards against manual tampering).
cluster_bin_ready() {
  local b
  [ -f "$CLUSTER_BIN/.complete" ] || return 1
  for b in "${CLUSTER_BINARIES[@]}"; do
    [ -x "$CLUSTER_BIN/$b" ] || return 1
  done
}
