#!/usr/bin/env bash
# Build (or reuse) the NetworkPolicy enforcer image: sigs.k8s.io/kube-network-policies
# <KUBE_NETWORK_POLICIES_VERSION> (tools/node/versions.env) from its Go module, laid out as its Dockerfile
# says (CGO_ENABLED=0 go build -o /bin/netpol ./cmd; CMD ["/bin/netpol"]). Run by the nodes as a
# DaemonSet (tools/node/manifests/kube-network-policies.yaml).
#
#   tools/images/kube-network-policies/build.sh     prints "<archive>\t<ref>\t<digest>" (tools/images/lib.sh)
#
# One change to upstream, made at build time in a copy of the module (the wrapper module replaces
# sigs.k8s.io/kube-network-policies with that copy; Go's -overlay may not replace files of the module cache):
# kube-network-policies steers packets to its userspace verdict loop with nftables' `queue` expression
# (pkg/networkpolicy/controller.go lines 855-858 and 971-974, expr.Queue). This machine's kernel is built
# without CONFIG_NFT_QUEUE, so the kernel rejects that rule ("Could not process rule: No such file or
# directory"), while CONFIG_NETFILTER_XT_TARGET_NFQUEUE and CONFIG_NFT_COMPAT are built in. The overlay
# makes those two places emit the xtables NFQUEUE target through nft_compat instead (same queue number,
# same bypass flag; `nft list ruleset` shows it as "queue num N"). Everything else, including the verdict
# logic, is upstream's. The build fails if the patched text is not found exactly twice.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../../.." && pwd -P)"
log() { printf '[image kube-network-policies] %s\n' "$*" >&2; }
die() { printf '[image kube-network-policies] ERROR: %s\n' "$*" >&2; exit 1; }
case "${1:-}" in -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;; esac

. "$ROOT/tools/images/lib.sh"
. "$ROOT/tools/node/versions.env"   # KUBE_NETWORK_POLICIES_VERSION

NAME=kube-network-policies
V="$KUBE_NETWORK_POLICIES_VERSION"
REF="localhost/kube-network-policies:$V"
command -v go >/dev/null || die "go is not on PATH (tools/setup.sh installs the toolchain)"
KEY="$(image_key "$HERE/build.sh" "$HERE/nfqueue_compat.go" "sigs.k8s.io/kube-network-policies@$V" "$(go env GOVERSION)" "$REF")"
if image_cached "$NAME" "$KEY"; then exit 0; fi

image_lock "$NAME"
if image_cached "$NAME" "$KEY"; then exit 0; fi
scratch="$(image_scratch "$NAME")"
trap 'rm -rf "$scratch"' EXIT
export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
mod="$scratch/module"
mkdir -p "$mod" && cd "$mod"
go mod init local/licode-netpol-build >/dev/null 2>&1
go get "sigs.k8s.io/kube-network-policies/cmd@$V" >&2 || die "go get sigs.k8s.io/kube-network-policies/cmd@$V failed"
src="$scratch/kube-network-policies@$V"
cp -r "$(go list -m -f '{{.Dir}}' sigs.k8s.io/kube-network-policies)" "$src"
chmod -R u+w "$src"
pkgdir="$src/pkg/networkpolicy"

# The nfqueue steering: expr.Queue (needs CONFIG_NFT_QUEUE) -> xt NFQUEUE target via nft_compat.
perl -0pi -e '
  $n += s{queue := &expr\.Queue\{Num: uint16\(c\.config\.QueueID\)\}\n\tif c\.config\.FailOpen \{\n\t\tqueue\.Flag = expr\.QueueFlagBypass\n\t\}}{queue := nfqueueCompatTarget(c.config.QueueID, c.config.FailOpen)}g;
  END { print STDERR "replaced=$n\n" }
' "$pkgdir/controller.go" 2>"$scratch/replaced"
grep -qx 'replaced=2' "$scratch/replaced" ||
  die "expected the expr.Queue block twice in $pkgdir/controller.go ($(cat "$scratch/replaced")); the change needs updating for $V"
cp "$HERE/nfqueue_compat.go" "$pkgdir/zz_licode_nfqueue_compat.go"
go mod edit -replace "sigs.k8s.io/kube-network-policies=$src"

mkdir -p "$scratch/rootfs/bin"
log "building kube-network-policies $V"
go build -trimpath -ldflags "-s -w" -o "$scratch/rootfs/bin/netpol" sigs.k8s.io/kube-network-policies/cmd >&2 ||
  die "go build failed"
help="$("$scratch/rootfs/bin/netpol" --help 2>&1)" || true
[[ "$help" == *-nfqueue-id* ]] || die "the built netpol does not run: $help"
printf '%s\n' '{"Cmd":["/bin/netpol"]}' >"$scratch/config.json"
cd "$ROOT"
image_publish "$NAME" "$KEY" "$scratch/rootfs" "$scratch/config.json" "$REF" "$scratch"
