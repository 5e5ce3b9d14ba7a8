#!/usr/bin/env bash
# Build (or reuse) the real node's binaries and print their bin dir on the last stdout line:
#
#   bin="$(tools/node/build.sh | tail -1)"   # $bin/{containerd,containerd-shim-runc-v2,ctr,runc,kubelet,kube-proxy}
#
# Everything comes from Go modules through the module proxy (versions: tools/node/versions.env and, for
# the kubelet and kube-proxy, tools/cluster/versions.env). Cached under
# ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/node/:
#   containerd-<v>-<key>/   containerd, containerd-shim-runc-v2, ctr   (CGO_ENABLED=0, upstream's tags)
#   runc-<v>-<key>/         runc                                      (cgo, libseccomp; no libpathrs)
#   kube-<v>-<key>/         kubelet, kube-proxy   (the control plane's wrapper module: tools/cluster/lib.sh)
#   bin-<key>/              hard links to all of them
# <key> hashes the version, the Go version and the recipe (the shell function that builds it), so an edit
# rebuilds only what it touches. Each component is built in a scratch dir and renamed into place; a flock
# on node/.lock serialises builds (tools/lib/cache-build.sh). A warm run only checks the cache.
#
# Options:
#   --force      rebuild everything
#   -h, --help   this text
# Environment: LICODE_CACHE (cache root), LICODE_NODE_LOCK_TIMEOUT (s to wait for another build, 3600).
# Installs the Debian packages it needs when missing (tools/node/deps.sh; root only).
set -euo pipefail

NODE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$NODE_DIR/../.." && pwd -P)"

log() { printf '[node-build] %s\n' "$*" >&2; }
die() { printf '[node-build] ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

# shellcheck source=../cluster/lib.sh
. "$ROOT/tools/cluster/lib.sh"   # K8S_VERSION, k8s_wrapper_module, k8s_version_ldflags, K8S_BUILD_TAGS
# shellcheck source=versions.env
. "$NODE_DIR/versions.env"
# shellcheck source=deps.sh
. "$NODE_DIR/deps.sh"

command -v go >/dev/null || die "go is not on PATH (tools/setup.sh installs the toolchain)"
export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=mod -buildvcs=false"
GO_VERSION="$(go env GOVERSION)"

CACHE="${LICODE_CACHE:-$HOME/.cache/licode-k8s}/node"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"
sha12() { sha256sum | cut -c1-12; }

# ---------------------------------------------------------------------------------------------
# Recipes. Each runs in an empty scratch dir and writes its binaries to ./out.
# ---------------------------------------------------------------------------------------------

# containerd's Makefile: GO_BUILDTAGS urfave_cli_no_docs (+ no_grpc for the shim), version ldflags
# -X $(PKG)/version.{Version,Revision,Package}, SHIM_CGO_ENABLED ?= 0 (Makefile lines 38, 94-111).
# CGO_ENABLED=0 drops the btrfs snapshotter by itself (cmd/containerd/builtins/btrfs_linux.go needs cgo);
# no_devmapper and no_zfs drop two snapshotters this node never uses.
build_containerd() {
  local pkg=github.com/containerd/containerd/v2 ld
  go mod init local/licode-containerd-build >/dev/null 2>&1
  go get "$pkg/cmd/containerd@$CONTAINERD_VERSION" "$pkg/cmd/ctr@$CONTAINERD_VERSION" \
    "$pkg/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" >&2
  ld="-s -w -X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Revision=go-module -X $pkg/version.Package=$pkg"
  CGO_ENABLED=0 go build -trimpath -tags "urfave_cli_no_docs no_btrfs no_devmapper no_zfs" -ldflags "$ld" \
    -o out/ "$pkg/cmd/containerd" "$pkg/cmd/ctr" >&2
  CGO_ENABLED=0 go build -trimpath -tags "urfave_cli_no_docs no_grpc" -ldflags "$ld" \
    -o out/ "$pkg/cmd/containerd-shim-runc-v2" >&2
  case "$(out/containerd --version)" in
    *" $CONTAINERD_VERSION "*) ;;
    *) die "containerd --version says: $(out/containerd --version)" ;;
  esac
}

# runc's Makefile: BUILDTAGS "seccomp urfave_cli_no_docs libpathrs", cgo on (lines 14, 69-71). libpathrs
# is an optional Rust library (README.md "libpathrs") that Debian does not ship: without its tag runc uses
# its Go path-safety code. The version comes from the module's VERSION file (main.go line 26).
build_runc() {
  local pkg=github.com/opencontainers/runc
  go mod init local/licode-runc-build >/dev/null 2>&1
  go get "$pkg@$RUNC_VERSION" >&2
  CGO_ENABLED=1 go build -trimpath -buildmode=pie -tags "seccomp urfave_cli_no_docs" \
    -ldflags "-X main.gitCommit=go-module -X main.version=${RUNC_VERSION#v}" -o out/runc "$pkg" >&2
  local got
  got="$(out/runc --version)"
  [[ "$got" == "runc version ${RUNC_VERSION#v}"$'\n'* ]] || die "runc --version says: $got"
  got="$(out/runc features)"
  [[ "$got" == *'"seccomp"'* ]] || die "runc was built without seccomp: $got"
}

# The kubelet and kube-proxy, from the control plane's wrapper module (same k8s.io/kubernetes, same
# staging pins, same tags and version stamp: tools/cluster/lib.sh). Upstream links the kubelet with cgo
# (hack/lib/golang.sh lines 323-336 list kube-proxy but not the kubelet among the static binaries); here
# both are CGO_ENABLED=0 like the control plane, which shares its Go build cache and uses no cgo-only
# kubelet feature (the kubelet talks to the runtime over CRI and reads cgroups through the filesystem).
build_kube() {
  k8s_wrapper_module . || die "cannot set up the Kubernetes wrapper module"
  go get "k8s.io/kubernetes/cmd/kubelet@$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-proxy@$K8S_VERSION" >&2
  CGO_ENABLED=0 go build -trimpath -tags "$K8S_BUILD_TAGS" -ldflags "-s -w$(k8s_version_ldflags)" \
    -o out/ k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy >&2
  [ "$(out/kubelet --version)" = "Kubernetes $K8S_VERSION" ] || die "kubelet --version says: $(out/kubelet --version)"
  [ "$(out/kube-proxy --version)" = "Kubernetes $K8S_VERSION" ] || die "kube-proxy --version says: $(out/kube-proxy --version)"
}

CONTAINERD_DIR="$CACHE/containerd-$CONTAINERD_VERSION-$(printf '%s\n' "$GO_VERSION" "$(declare -f build_containerd)" | sha12)"
RUNC_DIR="$CACHE/runc-$RUNC_VERSION-$(printf '%s\n' "$GO_VERSION" "$(declare -f build_runc)" | sha12)"
KUBE_DIR="$CACHE/kube-$K8S_VERSION-$(printf '%s\n' "$GO_VERSION" "$(declare -f build_kube k8s_wrapper_module k8s_version_ldflags)" "$K8S_BUILD_TAGS" | sha12)"
BIN_DIR="$CACHE/bin-$(printf '%s\n' "$CONTAINERD_DIR" "$RUNC_DIR" "$KUBE_DIR" | sha12)"
BINARIES=(containerd containerd-shim-runc-v2 ctr runc kubelet kube-proxy)

component_ok() { # component_ok DIR FILE...: cached and complete (a published dir is complete by construction)
  local dir="$1" f
  shift
  [ "$FORCE" = 0 ] && [ -f "$dir/.complete" ] || return 1
  for f in "$@"; do [ -x "$dir/$f" ] || return 1; done
}
all_ok() {
  component_ok "$CONTAINERD_DIR" containerd containerd-shim-runc-v2 ctr && component_ok "$RUNC_DIR" runc &&
    component_ok "$KUBE_DIR" kubelet kube-proxy && component_ok "$BIN_DIR" "${BINARIES[@]}"
}

# The runtime packages are needed by every node, cached build or not.
node_ensure_packages "${NODE_RUNTIME_PACKAGES[@]}"

if all_ok; then
  log "cached: $BIN_DIR"
  printf '%s\n' "$BIN_DIR"
  exit 0
fi

# shellcheck source=../lib/cache-build.sh
. "$ROOT/tools/lib/cache-build.sh"
cache_lock "${LICODE_NODE_LOCK_TIMEOUT:-3600}"
node_ensure_packages "${NODE_BUILD_PACKAGES[@]}"

build_component() { # build_component NAME DIR RECIPE FILE...
  local name="$1" dir="$2" recipe="$3" t0
  shift 3
  if component_ok "$dir" "$@"; then
    log "$name: cached ($dir)"
    return 0
  fi
  t0=$(date +%s)
  log "building $name (a cold Go build cache makes this take minutes)"
  new_tmp "$name"
  (cd "$NEW_TMP" && mkdir out && "$recipe") || die "building $name failed (see the output above)"
  printf 'built %s by %s in %ss with %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$recipe" "$(($(date +%s) - t0))" "$GO_VERSION" \
    >"$NEW_TMP/out/.complete"
  publish "$NEW_TMP/out" "$dir"
  log "$name: built in $(($(date +%s) - t0)) s"
}

build_component containerd "$CONTAINERD_DIR" build_containerd containerd containerd-shim-runc-v2 ctr
build_component runc "$RUNC_DIR" build_runc runc
build_component kube "$KUBE_DIR" build_kube kubelet kube-proxy

if ! component_ok "$BIN_DIR" "${BINARIES[@]}"; then
  new_tmp bin
  out="$NEW_TMP/bin"
  mkdir -p "$out"
  for b in containerd containerd-shim-runc-v2 ctr; do ln "$CONTAINERD_DIR/$b" "$out/$b"; done
  ln "$RUNC_DIR/runc" "$out/runc"
  for b in kubelet kube-proxy; do ln "$KUBE_DIR/$b" "$out/$b"; done
  printf '%s\n' "$CONTAINERD_DIR" "$RUNC_DIR" "$KUBE_DIR" >"$out/.complete"
  publish "$out" "$BIN_DIR"
fi
log "done: $BIN_DIR"
printf '%s\n' "$BIN_DIR"
