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

# ---------------------------------------------------------------------------------------------
# The Kubernetes wrapper module, shared by tools/cluster/build.sh (control plane) and
# tools/node/build.sh (kubelet, kube-proxy), so both build from the same k8s.io/kubernetes module
# the same way. The caller defines `log` and runs with GOTOOLCHAIN=local GOFLAGS=-mod=mod.
# ---------------------------------------------------------------------------------------------

# k8s_modfile MODULE@VERSION: fetch a module's go.mod through the proxy; prints the cached .mod path.
k8s_modfile() {
  local json
  if ! json="$(go mod download -json "$1" 2>&1)" || [[ $json == *'"Error"'* ]]; then
    echo "cannot download $1 from the module proxy:" >&2
    echo "$json" >&2
    return 1
  fi
  printf '%s' "$json" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'
}

# k8s_modtime MODULE@VERSION: commit time of a module version, from the proxy's .info (for buildDate).
k8s_modtime() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p' \
    | xargs cat | sed -n 's/.*"Time":"\([^"]*\)".*/\1/p'
}

# k8s_wrapper_module DIR: create a Go module in DIR that requires k8s.io/kubernetes@$K8S_VERSION and
# replaces every staging module (the "k8s.io/X => ./staging/..." lines of that tag's go.mod, never a
# hand-kept list) with v0.<minor>.<patch>; copies its `go` and `godebug` lines. The caller then
# `go get`s the cmd packages it builds.
k8s_wrapper_module() {
  local dir="$1" kk_mod kk_go kk_godebug m minor patch staging_version
  local -a staging edit
  minor="$(echo "${K8S_VERSION#v}" | cut -d. -f2)"
  patch="$(echo "${K8S_VERSION#v}" | cut -d. -f3)"
  staging_version="v0.${minor}.${patch}"
  mkdir -p "$dir"
  (cd "$dir" && go mod init local/licode-k8s-build >/dev/null 2>&1) || return 1
  kk_mod="$(cd "$dir" && k8s_modfile "k8s.io/kubernetes@$K8S_VERSION")" || return 1
  kk_go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kk_mod")"
  kk_godebug="$(sed -n 's/^godebug \(.*\)$/\1/p' "$kk_mod")"
  mapfile -t staging < <(sed -n 's/^[[:space:]]*\(replace[[:space:]]\+\)\{0,1\}\(k8s\.io\/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\.\/staging\/.*/\2/p' "$kk_mod")
  if [ "${#staging[@]}" -le 10 ]; then
    echo "found only ${#staging[@]} staging modules in $kk_mod" >&2
    return 1
  fi
  log "k8s.io/kubernetes@$K8S_VERSION: go $kk_go, godebug ${kk_godebug:-none}, ${#staging[@]} staging modules -> $staging_version"
  edit=(-go="$kk_go" -require="k8s.io/kubernetes@$K8S_VERSION")
  [ -n "$kk_godebug" ] && edit+=(-godebug="$kk_godebug")
  for m in "${staging[@]}"; do edit+=(-replace="$m=$m@$staging_version"); done
  (cd "$dir" && go mod edit "${edit[@]}")
}

# k8s_version_ldflags: upstream's version stamp (hack/lib/version.sh) for component-base and
# client-go, so /version and --version report $K8S_VERSION (Pulumi treats an unstamped server as 0.0).
k8s_version_ldflags() {
  local major minor build_date pkg flags=""
  major="$(echo "${K8S_VERSION#v}" | cut -d. -f1)"
  minor="$(echo "${K8S_VERSION#v}" | cut -d. -f2)"
  build_date="$(k8s_modtime "k8s.io/kubernetes@$K8S_VERSION")"
  [ -n "$build_date" ] || build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X '$pkg.gitVersion=$K8S_VERSION' -X '$pkg.gitMajor=$major' -X '$pkg.gitMinor=$minor'"
    flags+=" -X '$pkg.gitTreeState=clean' -X '$pkg.buildDate=$build_date'"
  done
  printf '%s\n' "$flags"
}

# Upstream's build tags for the Kubernetes commands (hack/lib/golang.sh).
K8S_BUILD_TAGS=selinux,notest,grpcnotrace
