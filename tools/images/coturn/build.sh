#!/usr/bin/env bash
# Build (or reuse) localhost/coturn:4.6.1-debian: coturn from Debian bookworm's package (4.6.1, the
# version test/turn runs), laid out like the coturn project's coturn/coturn:4.17.0-r0 image in every
# point the licode program relies on (components/images.ts COTURN): /usr/bin/turnserver and
# /usr/bin/turnutils_stunclient, the nobody:nogroup user (65534), /var/lib/coturn owned by nobody,
# /bin/sh and coreutils' timeout for the probe and the start script. It differs from coturn/coturn in:
# coturn 4.6.1, not 4.17.0 (no Prometheus endpoint: Debian builds coturn without it, so stacks that
# run this image set licode:turn.metrics false; no SIGUSR1 drain mode); no setcap on turnserver (the
# program never relies on the file capability); the entrypoint is turnserver itself, not the project's
# docker-entrypoint.sh (the program always sets `command`).
#
#   tools/images/coturn/build.sh            # last stdout line: "<archive>\t<ref>\t<digest>"
#
# The root filesystem comes from mmdebstrap (minbase plus coturn) against the Debian mirror and is packed by
# tools/images/lib.sh into ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/images/coturn/<key>/, <key> being a hash
# of this directory's files, the suite, the mirror and the package list. Beside the archive, packages.txt
# lists the Debian versions the build installed. A warm run only reads the cache.
#
# Options:
#   --force      rebuild even when the cache holds this key
#   -h, --help   this text
# Environment:
#   LICODE_CACHE               cache root (default $HOME/.cache/licode-k8s)
#   LICODE_DEBIAN_MIRROR       Debian mirror (default http://deb.debian.org/debian)
#   LICODE_IMAGE_LOCK_TIMEOUT  seconds to wait for another build of this image (default 3600)
# Needs root (mmdebstrap's root mode keeps the owners the image needs), mmdebstrap, node, flock.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

log() { printf '[image coturn] %s\n' "$*" >&2; }
die() { printf '[image coturn] ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$SCRIPT_DIR/../lib.sh"

NAME=coturn
COTURN_VERSION=4.6.1
REF="localhost/coturn:${COTURN_VERSION}-debian"
SUITE=bookworm
MIRROR="${LICODE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES=(coturn)
NOBODY=65534
DPKG_OPTIONS=(
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/locale/*' 'path-exclude=/usr/share/info/*'
)

KEY="$(image_key "$SCRIPT_DIR/build.sh" "$SCRIPT_DIR/image-config.json" \
  "suite=$SUITE" "mirror=$MIRROR" "packages=${PACKAGES[*]}" "dpkg=${DPKG_OPTIONS[*]}")"

if [ "$FORCE" = 0 ] && image_cached "$NAME" "$KEY"; then
  log "cached"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root: mmdebstrap must build in root mode so the image keeps its owners"
for tool in mmdebstrap node flock chroot; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH (mmdebstrap: apt-get install mmdebstrap)"
done
[ -f "$KEYRING" ] || die "$KEYRING is missing: apt-get install debian-archive-keyring"

image_lock "$NAME"
if [ "$FORCE" = 0 ] && image_cached "$NAME" "$KEY"; then
  log "cached (built by a concurrent run)"
  exit 0
fi
SCRATCH="$(image_scratch "$NAME")"
trap 'rm -rf "$SCRATCH"' EXIT
trap 'exit 130' INT TERM
ROOTFS="$SCRATCH/rootfs"
t0=$(date +%s)

log "mmdebstrap $SUITE minbase + ${PACKAGES[*]} ($MIRROR)"
dpkg_args=()
for option in "${DPKG_OPTIONS[@]}"; do dpkg_args+=(--dpkgopt="$option"); done
# mmdebstrap keeps packages' services from starting in the chroot (its start-stop-daemon and
# policy-rc.d stand-ins), so coturn's postinst starts nothing.
mmdebstrap --mode=root --variant=minbase --format=directory --keyring="$KEYRING" "${dpkg_args[@]}" \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  "$SUITE" "$ROOTFS" "deb $MIRROR $SUITE main" >&2 || die "mmdebstrap failed (output above)"

# coturn/coturn's layout (images.ts COTURN): the database directory owned by nobody.
grep -q "^nobody:x:$NOBODY:" "$ROOTFS/etc/passwd" || die "the base system has no nobody:$NOBODY"
grep -q "^nogroup:x:$NOBODY:" "$ROOTFS/etc/group" || die "the base system has no nogroup:$NOBODY"
install -d -m 0755 -o "$NOBODY" -g "$NOBODY" "$ROOTFS/var/lib/coturn"

in_image() { chroot --userspec="$NOBODY:$NOBODY" "$ROOTFS" env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
for program in /usr/bin/turnserver /usr/bin/turnutils_stunclient /usr/bin/timeout /bin/sh; do
  [ -x "$ROOTFS$program" ] || die "$program is missing from the image"
done
version="$(in_image turnserver --version 2>/dev/null | tail -n1)" || die "turnserver does not run in the image"
[ "$version" = "$COTURN_VERSION" ] || die "turnserver in the image reports '$version', not $COTURN_VERSION"
log "coturn $version"
mkdir -p "$SCRATCH/out"
chroot "$ROOTFS" dpkg-query -W -f '${Package}\t${Version}\n' >"$SCRATCH/out/packages.txt"

# What mmdebstrap leaves of the build host and of apt; the runtime provides hostname and resolv.conf.
: >"$ROOTFS/etc/hostname"
: >"$ROOTFS/etc/resolv.conf"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
  "$ROOTFS"/var/lib/dpkg/*-old "$ROOTFS"/var/log/apt "$ROOTFS"/var/log/*.log "$ROOTFS"/tmp/* "$ROOTFS"/tmp/.[!.]*

image_publish "$NAME" "$KEY" "$ROOTFS" "$SCRIPT_DIR/image-config.json" "$REF" "$SCRATCH"
log "built in $(($(date +%s) - t0)) s"
