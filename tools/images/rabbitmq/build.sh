#!/usr/bin/env bash
# Build (or reuse) localhost/rabbitmq:4.0.5-management: RabbitMQ 4.0.5 and Erlang 27 from Debian trixie's
# packages, laid out like the official rabbitmq:4.3-management image in every point the licode program relies
# on (user and group 999, /var/lib/rabbitmq as data directory and HOME, /var/log/rabbitmq, conf.d with a
# 10-defaults.conf, the management and prometheus plugins, the entrypoint's behaviour, the CLI on PATH).
# README.md "Local images" lists where it differs from rabbitmq:4.3.
#
#   tools/images/rabbitmq/build.sh            # last stdout line: "<archive>\t<ref>\t<digest>"
#
# The root filesystem comes from mmdebstrap (minbase) against the Debian mirror (trixie and trixie-security),
# with the hooks in rootfs.sh, and is packed by tools/images/lib.sh into
# ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/images/rabbitmq/<key>/, <key> being a hash of this directory's
# files, the suite, the mirrors and the package list. Beside the archive,
# packages.txt lists the Debian versions the build installed. A warm run only reads the cache; a mirror
# that has moved on since is picked up with --force.
#
# Options:
#   --force      rebuild even when the cache holds this key
#   -h, --help   this text
# Environment:
#   LICODE_CACHE                   cache root (default $HOME/.cache/licode-k8s)
#   LICODE_DEBIAN_MIRROR           Debian mirror (default http://deb.debian.org/debian)
#   LICODE_DEBIAN_SECURITY_MIRROR  Debian security mirror, for <suite>-security (default http://deb.debian.org/debian-security)
#   LICODE_IMAGE_LOCK_TIMEOUT      seconds to wait for another build of this image (default 3600)
# Needs root (mmdebstrap's root mode keeps the owners the image needs), mmdebstrap, node, flock.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

log() { printf '[image rabbitmq] %s\n' "$*" >&2; }
die() { printf '[image rabbitmq] ERROR: %s\n' "$*" >&2; exit 1; }

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

NAME=rabbitmq
REF=localhost/rabbitmq:4.0.5-management
RABBITMQ_VERSION=4.0.5
SUITE=trixie
MIRROR="${LICODE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${LICODE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PACKAGES=rabbitmq-server
# Documentation and translations are left out (the official image's Ubuntu base excludes them too); the
# copyright files stay.
DPKG_OPTIONS=(
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/locale/*' 'path-exclude=/usr/share/info/*'
)

KEY="$(image_key "$SCRIPT_DIR/build.sh" "$SCRIPT_DIR/rootfs.sh" "$SCRIPT_DIR/docker-entrypoint.sh" \
  "$SCRIPT_DIR/10-defaults.conf" "$SCRIPT_DIR/image-config.json" "suite=$SUITE" "mirror=$MIRROR" "security=$SECURITY_MIRROR" \
  "packages=$PACKAGES" "dpkg=${DPKG_OPTIONS[*]}")"

if [ "$FORCE" = 0 ] && image_cached "$NAME" "$KEY"; then
  log "cached"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root: mmdebstrap must build in root mode so the image keeps its owners (999 for the broker's files)"
for tool in mmdebstrap node flock chroot; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH (mmdebstrap: apt-get install mmdebstrap)"
done
[ -f "$KEYRING" ] || die "$KEYRING is missing: apt-get install debian-archive-keyring (with the trixie keys, 2023.3+deb12u1 or later)"

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

log "mmdebstrap $SUITE and $SUITE-security ($MIRROR, $SECURITY_MIRROR): $PACKAGES"
dpkg_args=()
for option in "${DPKG_OPTIONS[@]}"; do dpkg_args+=(--dpkgopt="$option"); done
mmdebstrap --mode=root --variant=minbase --format=directory --keyring="$KEYRING" "${dpkg_args[@]}" \
  --include="$PACKAGES" \
  --essential-hook="\"$SCRIPT_DIR/rootfs.sh\" essential \"\$1\"" \
  --customize-hook="\"$SCRIPT_DIR/rootfs.sh\" customize \"\$1\"" \
  "$SUITE" "$ROOTFS" "deb $MIRROR $SUITE main" "deb $SECURITY_MIRROR $SUITE-security main" >&2 ||
  die "mmdebstrap failed (output above)"

installed="$(chroot "$ROOTFS" dpkg-query -W -f '${Version}' rabbitmq-server)"
[[ "$installed" == "$RABBITMQ_VERSION"-* ]] ||
  die "the mirror's $SUITE serves rabbitmq-server $installed, not $RABBITMQ_VERSION: update REF and README.md's 'Local images' before building it"
plugins_env="$(sed -n 's/.*"RABBITMQ_PLUGINS_DIR=\([^"]*\)".*/\1/p' "$SCRIPT_DIR/image-config.json")"
[ -n "$plugins_env" ] && [ -d "$ROOTFS$plugins_env" ] ||
  die "image-config.json's RABBITMQ_PLUGINS_DIR '$plugins_env' is not a directory of the image: update it to the package's version"
mkdir -p "$SCRATCH/out"
chroot "$ROOTFS" dpkg-query -W -f '${Package}\t${Version}\n' >"$SCRATCH/out/packages.txt"
log "rabbitmq-server $installed, erlang-base $(chroot "$ROOTFS" dpkg-query -W -f '${Version}' erlang-base)"

# What mmdebstrap leaves of the build host and of apt; the runtime provides hostname and resolv.conf.
: >"$ROOTFS/etc/hostname"
: >"$ROOTFS/etc/resolv.conf"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
  "$ROOTFS"/var/lib/dpkg/*-old "$ROOTFS"/var/log/apt "$ROOTFS"/var/log/*.log

image_publish "$NAME" "$KEY" "$ROOTFS" "$SCRIPT_DIR/image-config.json" "$REF" "$SCRATCH"
log "built in $(($(date +%s) - t0)) s"
