#!/usr/bin/env bash
# Build (or reuse) the local Licode v10 image, `localhost/licode:v10`, as an OCI archive, and print
# "<archive>\t<ref>\t<digest>" as the last stdout line (the contract of tools/images/lib.sh):
#
#   IFS=$'\t' read -r archive ref digest < <(tools/images/licode/build.sh | tail -1)
#
# What it is: a Debian bookworm root filesystem (`mmdebstrap --variant=minbase`, plus tzdata), with the Licode
# tree of tools/licode/build-tree.sh at /opt/licode (Licode v10 from its source, Node.js 12.13.0 where nvm puts
# it, the npm dependencies from upstream's lock files, the nvm.sh and erizoAPI STAND-INS), laid out and started
# as upstream's Dockerfile does it:
#   Dockerfile 8-9    ENV TZ=Europe/Madrid, /etc/localtime and /etc/timezone
#   Dockerfile 24, 26 the tree at /opt/licode, an empty /opt/licode/.git
#   Dockerfile 39-42  /opt/licode/RELEASE (the commit, then the commit's date)
#   Dockerfile 45-47  WORKDIR /opt, ENTRYPOINT ["./licode/extras/docker/initDockerLicode.sh"] (unmodified)
#   no USER           root, as the real image
# Where it differs from `lynckia/licode:v10` (Ubuntu 20.04; Erizo's C++ core, the native erizoAPI addon,
# MongoDB 4.4 and RabbitMQ in the image) is listed in tools/licode/README.md and components/images.ts
# LOCAL_LICODE, each with its upstream line.
#
# Cached as images/licode/<key>/ by tools/images/lib.sh; the key covers this script, the tree (whose own key
# covers the source checksum, the node and npm packages, the lock files inside the source, both stand-ins and
# build-tree.sh), the Debian suite and packages. The Debian mirror's contents are not part of the key: a new
# bookworm point release is picked up by --force.
#
# Options:
#   --force       rebuild (ignore the cache)
#   -h, --help    this text
# Environment: LICODE_CACHE, LICODE_SOURCE (see tools/licode/build-tree.sh), LICODE_IMAGE_LOCK_TIMEOUT.
# Needs root (mmdebstrap writes a root filesystem with its owners), mmdebstrap (`apt-get install mmdebstrap`),
# node (for tools/images/oci-pack.js), tar, flock. Progress goes to stderr.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/../../.." && pwd -P)"

log() { printf '[image licode] %s\n' "$*" >&2; }
die() { printf '[image licode] ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

NAME=licode
REF=localhost/licode:v10
SUITE=bookworm
# tzdata: Dockerfile 9 links /etc/localtime to /usr/share/zoneinfo/$TZ. Everything else the entrypoint, the
# probes and the hooks use (bash, coreutils, grep, getconf, /proc) is in minbase.
PACKAGES=tzdata
TZ_NAME=Europe/Madrid

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$ROOT/tools/images/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root: mmdebstrap must create a root filesystem with root-owned files"
for tool in node tar flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH"
done

TREE="$(bash "$ROOT/tools/licode/build-tree.sh" | tail -n1)" || die "tools/licode/build-tree.sh failed"
[ -f "$TREE/RELEASE" ] || die "tools/licode/build-tree.sh printed '$TREE', which holds no Licode tree"
KEY="$(image_key "${BASH_SOURCE[0]}" "tree $TREE" "suite $SUITE" "packages $PACKAGES" "tz $TZ_NAME")"

if [ "$FORCE" = 0 ] && image_cached "$NAME" "$KEY"; then
  exit 0
fi
image_lock "$NAME"
if [ "$FORCE" = 0 ] && image_cached "$NAME" "$KEY"; then
  exit 0
fi
command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is missing: apt-get install mmdebstrap"

SCRATCH="$(image_scratch "$NAME")"
cleanup() { chmod -R u+w "$SCRATCH" 2>/dev/null || true; rm -rf "$SCRATCH"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
t0=$(date +%s)

ROOTFS="$SCRATCH/rootfs"
log "root filesystem: mmdebstrap --variant=minbase --include=$PACKAGES $SUITE"
mmdebstrap --quiet --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" >&2 || die "mmdebstrap failed"
# Package lists and caches are not needed at run time (the real image's installUbuntuDeps.sh --cleanup also
# removes its build leftovers).
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old

# Dockerfile 8-9.
ln -snf "/usr/share/zoneinfo/$TZ_NAME" "$ROOTFS/etc/localtime"
printf '%s\n' "$TZ_NAME" >"$ROOTFS/etc/timezone"
[ -f "$ROOTFS/usr/share/zoneinfo/$TZ_NAME" ] || die "tzdata has no zone $TZ_NAME"

# Dockerfile 24: the tree, root-owned and writable by root as COPY leaves it (the cache keeps it read-only).
log "copying the Licode tree ($TREE)"
mkdir -p "$ROOTFS/opt"
cp -a "$TREE" "$ROOTFS/opt/licode"
chown -R 0:0 "$ROOTFS/opt/licode"
chmod -R u+w "$ROOTFS/opt/licode"
chmod 755 "$ROOTFS/opt/licode"
[ -x "$ROOTFS/opt/licode/extras/docker/initDockerLicode.sh" ] || die "the tree has no executable entrypoint"

# The node binary must run on this root filesystem (its shared libraries come from minbase).
chroot "$ROOTFS" /opt/licode/build/libdeps/nvm/versions/node/v12.13.0/bin/node --version >/dev/null ||
  die "Node.js 12.13.0 does not run in the root filesystem (missing shared libraries?)"

cat >"$SCRATCH/config.json" <<EOF
{
  "Env": [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TZ=$TZ_NAME"
  ],
  "WorkingDir": "/opt",
  "Entrypoint": ["./licode/extras/docker/initDockerLicode.sh"],
  "Labels": {
    "org.opencontainers.image.title": "licode",
    "org.opencontainers.image.version": "v10",
    "org.opencontainers.image.revision": "$(head -n1 "$TREE/RELEASE")",
    "org.opencontainers.image.description": "Licode v10 built from source; the native media addon (erizoAPI) is a signalling-only stand-in: media does not flow"
  }
}
EOF

log "packing $REF"
image_publish "$NAME" "$KEY" "$ROOTFS" "$SCRATCH/config.json" "$REF" "$SCRATCH"
log "built in $(($(date +%s) - t0)) s"
