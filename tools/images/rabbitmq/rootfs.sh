#!/usr/bin/env bash
# mmdebstrap hooks of tools/images/rabbitmq/build.sh: shape a Debian trixie root filesystem with the
# rabbitmq-server package into the layout of the official image (docker-library/rabbitmq, 4.3/ubuntu/Dockerfile
# and 4.3/ubuntu/management/Dockerfile at commit 9193c1de; line numbers below are theirs).
#
#   rootfs.sh essential ROOTFS   before the package installs: the rabbitmq user and group as 999:999
#   rootfs.sh customize ROOTFS   after: directories, conf.d, plugins, entrypoint, no build-time cookie
#
# Run by mmdebstrap as root (it mounts /proc, /sys and /dev into ROOTFS around the hooks).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
RABBITMQ_ID=999
DATA_DIR=/var/lib/rabbitmq

die() { printf '[rabbitmq rootfs] ERROR: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: rootfs.sh essential|customize ROOTFS"
phase="$1"
root="$2"
[ -d "$root/etc" ] || die "'$root' is not a root filesystem"

# as_rabbitmq CMD...: run in the new system as the rabbitmq user, as the official image's `gosu rabbitmq` does.
as_rabbitmq() {
  chroot "$root" setpriv --reuid="$RABBITMQ_ID" --regid="$RABBITMQ_ID" --init-groups env HOME="$DATA_DIR" "$@"
}

case "$phase" in
  essential)
    # Dockerfile 228-229: group and user 999, home = the data directory. The package's postinst creates its
    # user only when none exists (rabbitmq-server.postinst: `getent passwd rabbitmq || adduser --system`),
    # which would take the next free system UID instead.
    grep -q '^rabbitmq:' "$root/etc/group" && die "a rabbitmq group already exists in $root"
    printf 'rabbitmq:x:%s:\n' "$RABBITMQ_ID" >>"$root/etc/group"
    printf 'rabbitmq:x:%s:%s:RabbitMQ messaging server:%s:/usr/sbin/nologin\n' \
      "$RABBITMQ_ID" "$RABBITMQ_ID" "$DATA_DIR" >>"$root/etc/passwd"
    ;;
  customize)
    [ "$(chroot "$root" id -u rabbitmq)" = "$RABBITMQ_ID" ] || die "the rabbitmq user is not UID $RABBITMQ_ID"
    [ "$(chroot "$root" id -g rabbitmq)" = "$RABBITMQ_ID" ] || die "the rabbitmq group is not GID $RABBITMQ_ID"
    # Dockerfile 230-232: the same directories, owned by 999 and world-writable with the sticky bit, so an
    # image started under another UID still runs.
    dirs=("$DATA_DIR" /etc/rabbitmq /etc/rabbitmq/conf.d /tmp/rabbitmq-ssl /var/log/rabbitmq)
    for d in "${dirs[@]}"; do mkdir -p "$root$d"; done
    # Dockerfile 321 and management/Dockerfile 16: conf.d holds 10-defaults.conf alone in the management variant.
    install -m 0644 -o "$RABBITMQ_ID" -g "$RABBITMQ_ID" "$HERE/10-defaults.conf" "$root/etc/rabbitmq/conf.d/10-defaults.conf"
    install -m 0755 -o 0 -g 0 "$HERE/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
    # Dockerfile 302 and management/Dockerfile 14: rabbitmq_prometheus and rabbitmq_management, enabled
    # offline as the rabbitmq user (they land in /etc/rabbitmq/enabled_plugins). Offline, the CLI finds the
    # plugins only through RABBITMQ_PLUGINS_DIR in Debian's layout (Debian's rabbitmq-script-wrapper sets it);
    # the image sets it too (image-config.json).
    plugins_dir="$(cd "$root" && ls -d usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins)"
    as_rabbitmq RABBITMQ_PLUGINS_DIR="/$plugins_dir" \
      /usr/lib/rabbitmq/bin/rabbitmq-plugins enable --offline rabbitmq_prometheus rabbitmq_management >&2
    enabled="$(cat "$root/etc/rabbitmq/enabled_plugins")"
    for plugin in rabbitmq_prometheus rabbitmq_management; do
      [[ "$enabled" == *"$plugin"* ]] || die "$plugin is not in /etc/rabbitmq/enabled_plugins ($enabled)"
    done
    # Dockerfile 291-299: no Erlang cookie in the image (the package's postinst made one at install time, which
    # every container would otherwise share); the node creates its own in $HOME at first start.
    rm -rf "${root:?}$DATA_DIR/.erlang.cookie" "${root:?}$DATA_DIR/mnesia"
    chown -R "$RABBITMQ_ID:$RABBITMQ_ID" "${dirs[@]/#/$root}"
    chmod 1777 "${dirs[@]/#/$root}"
    # Dockerfile 233 and 305: root's cookie is the broker's; /plugins is the plugins directory.
    ln -sfn "$DATA_DIR/.erlang.cookie" "$root/root/.erlang.cookie"
    ln -sfn "/$plugins_dir" "$root/plugins"
    ;;
  *) die "unknown phase '$phase' (essential or customize)" ;;
esac
