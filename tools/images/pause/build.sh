#!/usr/bin/env bash
# Build (or reuse) the sandbox ("pause") image: Kubernetes' own build/pause/linux/pause.c from the
# k8s.io/kubernetes module the cluster runs (tools/cluster/versions.env), compiled as upstream does
# (build/pause/Makefile line 49: gcc -Os -Wall -Werror -static -DVERSION=v$(TAG)-$(REV)) and laid out as
# its Dockerfile says (FROM scratch, /pause, USER 65535:65535, ENTRYPOINT ["/pause"]).
#
#   tools/images/pause/build.sh     prints "<archive>\t<ref>\t<digest>" (tools/images/lib.sh), last line
#
# The ref is localhost/pause:<PAUSE_VERSION> (tools/node/versions.env; the tag of k8s v1.36.3's
# build/pause/Makefile line 20). tools/node imports it into every node and sets it as containerd's
# sandbox image. Needs gcc and libc6-dev (static glibc); installs them when missing (root).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../../.." && pwd -P)"
log() { printf '[image pause] %s\n' "$*" >&2; }
die() { printf '[image pause] ERROR: %s\n' "$*" >&2; exit 1; }
case "${1:-}" in -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;; esac

. "$ROOT/tools/images/lib.sh"
. "$ROOT/tools/cluster/versions.env"   # K8S_VERSION
. "$ROOT/tools/node/versions.env"      # PAUSE_VERSION
. "$ROOT/tools/node/deps.sh"

NAME=pause
REF="localhost/pause:$PAUSE_VERSION"
gcc_version="$(gcc --version 2>/dev/null)" || gcc_version="no gcc"
KEY="$(image_key "$HERE/build.sh" "k8s.io/kubernetes@$K8S_VERSION" "$REF" "${gcc_version%%$'\n'*}")"
if image_cached "$NAME" "$KEY"; then exit 0; fi

image_lock "$NAME"
if image_cached "$NAME" "$KEY"; then exit 0; fi
node_ensure_packages gcc libc6-dev
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off
src="$(cd /tmp && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
[ -f "$src/build/pause/linux/pause.c" ] || die "build/pause/linux/pause.c not found in k8s.io/kubernetes@$K8S_VERSION ($src)"

scratch="$(image_scratch "$NAME")"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/rootfs"
# REV is `git describe` in upstream's Makefile; the module has no git history, so the k8s tag stands in.
gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-$K8S_VERSION" -o "$scratch/rootfs/pause" \
  "$src/build/pause/linux/pause.c" || die "compiling pause.c failed"
[[ "$("$scratch/rootfs/pause" -v)" == "pause.c v$PAUSE_VERSION-"* ]] || die "the built pause does not report its version"
chmod 0755 "$scratch/rootfs/pause"
printf '%s\n' '{"User":"65535:65535","Entrypoint":["/pause"]}' >"$scratch/config.json"
image_publish "$NAME" "$KEY" "$scratch/rootfs" "$scratch/config.json" "$REF" "$scratch"
