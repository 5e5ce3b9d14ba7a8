#!/usr/bin/env bash
# Build (or reuse) the small test image the node tests run: Debian's busybox-static package unpacked
# into an empty root (dpkg-deb -x), one symlink per applet (sh, httpd, nc, wget, nslookup, ...), and a
# minimal /etc/passwd and /etc/group (root, nobody). No package manager, no shell but busybox's.
# Plus glibc's libc6 and libc-bin (getent) of the version busybox-static was built with (its
# Built-Using field): a static glibc program resolves names through glibc's NSS modules, loaded at run
# time (without them busybox's wget crashes on a host name), and busybox's nslookup ignores the
# resolv.conf search list, which `getent hosts kubernetes.default` applies as any libc client does.
#
#   tools/images/test-busybox/build.sh     prints "<archive>\t<ref>\t<digest>" (tools/images/lib.sh), last line
#
# The ref is localhost/test-busybox:<Debian package version, ':' and '+' made tag-safe>. The package is
# fetched with `apt-get download` (the Debian mirror), so the image does not depend on what the host has.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../../.." && pwd -P)"
log() { printf '[image test-busybox] %s\n' "$*" >&2; }
die() { printf '[image test-busybox] ERROR: %s\n' "$*" >&2; exit 1; }
case "${1:-}" in -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;; esac

. "$ROOT/tools/images/lib.sh"

NAME=test-busybox
version="$(apt-cache policy busybox-static 2>/dev/null | sed -n 's/^ *Candidate: //p')"
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  [ "$(id -u)" = 0 ] || die "apt has no busybox-static candidate; run 'apt-get update' as root"
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2 || die "apt-get update failed"
  version="$(apt-cache policy busybox-static | sed -n 's/^ *Candidate: //p')"
  [ -n "$version" ] && [ "$version" != "(none)" ] || die "Debian offers no busybox-static package"
fi
glibc="$(apt-cache show "busybox-static=$version" | sed -n 's/^Built-Using:.*glibc (= \([^)]*\)).*/\1/p' | sed -n 1p)"
[ -n "$glibc" ] || die "busybox-static=$version names no glibc in Built-Using"
REF="localhost/test-busybox:$(printf '%s' "$version" | sed 's/^[0-9]*://; s/[^A-Za-z0-9_.-]/-/g')"
KEY="$(image_key "$HERE/build.sh" "busybox-static=$version" "libc6=$glibc" "$REF")"
if image_cached "$NAME" "$KEY"; then exit 0; fi

image_lock "$NAME"
if image_cached "$NAME" "$KEY"; then exit 0; fi
scratch="$(image_scratch "$NAME")"
trap 'rm -rf "$scratch"' EXIT
chmod 0755 "$scratch"   # apt's download sandbox user must be able to write there
(cd "$scratch" && apt-get -o APT::Sandbox::User=root download -q "busybox-static=$version" "libc6=$glibc" "libc-bin=$glibc" >&2) ||
  die "apt-get download busybox-static=$version libc6=$glibc libc-bin=$glibc failed"
rootfs="$scratch/rootfs"
mkdir -p "$rootfs"
for deb in "$scratch"/*.deb; do dpkg-deb -x "$deb" "$rootfs" || die "unpacking $deb failed"; done
[ -x "$rootfs/usr/bin/getent" ] || die "libc-bin has no /usr/bin/getent"
cp "$rootfs/usr/share/libc-bin/nsswitch.conf" "$rootfs/etc/nsswitch.conf"
[ -x "$rootfs/bin/busybox" ] || die "busybox-static has no /bin/busybox"
mkdir -p "$rootfs/usr/bin" "$rootfs/sbin" "$rootfs/usr/sbin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
chmod 1777 "$rootfs/tmp"
# `busybox --list-full` names each applet with its conventional directory (bin/sh, usr/bin/wget, ...).
"$rootfs/bin/busybox" --list-full | while read -r applet; do
  [ -e "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$rootfs/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$rootfs/etc/group"
printf '%s\n' '{"Cmd":["/bin/sh"],"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/"}' >"$scratch/config.json"
image_publish "$NAME" "$KEY" "$rootfs" "$scratch/config.json" "$REF" "$scratch"
