#!/usr/bin/env bash
# Build the local control plane binaries (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from Go modules through the Go module proxy.
#
# Output: ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/cluster/<k8s>-<etcd>-<kwok>/bin (printed on
# stdout as the last line). Built in a temp dir next to it and renamed into place atomically;
# a flock serialises concurrent runs. A second run with the cache present takes well under a second.
#
# Options: --force  rebuild even when the cache is complete.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

FORCE=0
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument: $a" >&2; exit 2 ;;
  esac
done

log() { echo "[build] $*" >&2; }
quiet() { # run a command, show its output only if it fails
  local out
  if ! out="$("$@" 2>&1)"; then echo "$out" >&2; echo "build.sh: failed: $*" >&2; exit 1; fi
}

if [ "$FORCE" = 0 ] && cluster_bin_ready; then
  log "cached: $CLUSTER_BIN"
  echo "$CLUSTER_BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: go not found on PATH" >&2; exit 1; }

mkdir -p "$CLUSTER_CACHE_ROOT"
exec 9>"$CLUSTER_CACHE_ROOT/.$CLUSTER_CACHE_KEY.lock"
if ! flock -n 9; then
  log "another build of $CLUSTER_CACHE_KEY is running; waiting for its lock"
  flock 9
fi
# Re-check under the lock: a concurrent run may have finished the build meanwhile.
if [ "$FORCE" = 0 ] && cluster_bin_ready; then
  log "cached (built by a concurrent run): $CLUSTER_BIN"
  echo "$CLUSTER_BIN"
  exit 0
fi

# Leftovers of interrupted builds of this key (we hold the lock, so nobody else owns them).
rm -rf "$CLUSTER_CACHE_ROOT/.tmp-$CLUSTER_CACHE_KEY."*

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOWORK=off
GO_VERSION="$(go env GOVERSION)"
log "go $GO_VERSION; k8s $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION"

TMP="$(mktemp -d "$CLUSTER_CACHE_ROOT/.tmp-$CLUSTER_CACHE_KEY.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT HUP TERM
OUT="$TMP/out/bin"
mkdir -p "$OUT"
START=$(date +%s)

# Fetch a module's go.mod through the proxy; prints the local path of the cached .mod file.
modfile() { k8s_modfile "$1" || { echo "build.sh: see above" >&2; exit 1; }; }

# ---------------------------------------------------------------------------------------------
# 1. Kubernetes: wrapper module that maps every staging module to v0.<minor>.<patch>.
# ---------------------------------------------------------------------------------------------
K8S_MINOR="$(echo "${K8S_VERSION#v}" | cut -d. -f2)"
# The wrapper module (tools/cluster/lib.sh, shared with tools/node/build.sh).
k8s_wrapper_module "$TMP/k8s" || { echo "build.sh: cannot set up the Kubernetes wrapper module" >&2; exit 1; }
cd "$TMP/k8s"

K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
K8S_PKGS=()
for c in "${K8S_CMDS[@]}"; do K8S_PKGS+=("k8s.io/kubernetes/cmd/$c"); done
log "resolving k8s dependencies"
quiet go get "${K8S_PKGS[@]/%/@$K8S_VERSION}"

VFLAGS="$(k8s_version_ldflags)"
log "building ${K8S_CMDS[*]} (slow on a cold cache)"
go build -trimpath -tags "$K8S_BUILD_TAGS" -ldflags "-s -w$VFLAGS" -o "$OUT/" "${K8S_PKGS[@]}"

# ---------------------------------------------------------------------------------------------
# 2. etcd: its server module has only relative replaces; its requires name published versions.
# ---------------------------------------------------------------------------------------------
mkdir -p "$TMP/etcd" && cd "$TMP/etcd"
go mod init local/licode-etcd-build >/dev/null 2>&1
modfile "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
log "resolving etcd $ETCD_VERSION"
quiet go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
log "building etcd"
go build -trimpath -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3

# ---------------------------------------------------------------------------------------------
# 3. kwok: no replace directives; built with its own pins.
# ---------------------------------------------------------------------------------------------
mkdir -p "$TMP/kwok" && cd "$TMP/kwok"
go mod init local/licode-kwok-build >/dev/null 2>&1
modfile "sigs.k8s.io/kwok@$KWOK_VERSION" >/dev/null
log "resolving kwok $KWOK_VERSION"
quiet go get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
log "building kwok"
go build -trimpath -ldflags "-s -w -X 'sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION' -X 'sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_VERSION'" \
  -o "$OUT/kwok" sigs.k8s.io/kwok/cmd/kwok
# kwok's stage definitions ship in the module; keep a copy next to the binaries.
KWOK_DIR="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
mkdir -p "$OUT/../kwok-stage"
cp -r "$KWOK_DIR/kustomize/stage/." "$OUT/../kwok-stage/"
chmod -R u+w "$OUT/../kwok-stage"

# ---------------------------------------------------------------------------------------------
# Check and publish.
# ---------------------------------------------------------------------------------------------
got="$("$OUT/kube-apiserver" --version)"
[ "$got" = "Kubernetes $K8S_VERSION" ] || { echo "build.sh: kube-apiserver --version says '$got'" >&2; exit 1; }
got="$("$OUT/etcd" --version)"
case "$got" in *"etcd Version: ${ETCD_VERSION#v}"*) ;; *) echo "build.sh: etcd --version says: $got" >&2; exit 1 ;; esac
got="$("$OUT/kubectl" version --client -o json)"
case "$got" in *"\"minor\": \"$K8S_MINOR\""*) ;; *) echo "build.sh: kubectl not version-stamped: $got" >&2; exit 1 ;; esac
got="$("$OUT/kwok" --version)"
case "$got" in *"$KWOK_VERSION"*) ;; *) echo "build.sh: kwok --version says: $got" >&2; exit 1 ;; esac
{
  echo "k8s=$K8S_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION go=$GO_VERSION"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) seconds=$(( $(date +%s) - START ))"
} > "$OUT/.complete"
cp "$TMP/k8s/go.mod" "$OUT/../k8s-wrapper.go.mod"

DEST="$CLUSTER_CACHE_ROOT/$CLUSTER_CACHE_KEY"
if [ -e "$DEST" ]; then   # only with --force: move the old one aside, then swap
  mv "$DEST" "$TMP/old"
fi
mv "$TMP/out" "$DEST"
log "done in $(( $(date +%s) - START ))s: $CLUSTER_BIN"
ls -l "$CLUSTER_BIN" >&2
echo "$CLUSTER_BIN"
