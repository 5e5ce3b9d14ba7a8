#!/usr/bin/env bash
# Entrypoint of localhost/rabbitmq (tools/images/rabbitmq/build.sh): the behaviour of the official image's
# docker-entrypoint.sh (docker-library/rabbitmq 4.3/ubuntu/docker-entrypoint.sh, commit 9193c1de), written
# for the Debian package's layout:
#   - started as root with a rabbitmq* command, drop to the rabbitmq user (UID 999) first, and for
#     rabbitmq-server hand it whatever in /var/lib/rabbitmq it does not own (upstream 4-11). Started as
#     999 (the Kubernetes manifests set runAsUser), nothing is chowned;
#   - refuse the environment variables upstream removed (upstream 13-43), naming each one;
#   - use long node names when the host name is a FQDN, unless RABBITMQ_USE_LONGNAME is set (upstream 45-48);
#   - exec the command, so the broker (RUNNING_UNDER_SYSTEMD=true in the image: beam.smp replaces the
#     shell) is PID 1 and gets the kubelet's SIGTERM.
# Upstream drops privileges with gosu; this image uses util-linux's setpriv, already in every Debian
# system, for the same switch of user, group and supplementary groups.
set -euo pipefail

RABBITMQ_UID=999
if [[ "${1:-}" == rabbitmq* ]] && [ "$(id -u)" = 0 ]; then
  if [ "$1" = rabbitmq-server ]; then
    find /var/lib/rabbitmq \! -user "$RABBITMQ_UID" -exec chown "$RABBITMQ_UID" '{}' +
  fi
  exec setpriv --reuid="$RABBITMQ_UID" --regid="$RABBITMQ_UID" --init-groups -- "$BASH_SOURCE" "$@"
fi

removed_variables=(
  RABBITMQ_DEFAULT_PASS_FILE RABBITMQ_DEFAULT_USER_FILE
  RABBITMQ_MANAGEMENT_SSL_CACERTFILE RABBITMQ_MANAGEMENT_SSL_CERTFILE RABBITMQ_MANAGEMENT_SSL_DEPTH
  RABBITMQ_MANAGEMENT_SSL_FAIL_IF_NO_PEER_CERT RABBITMQ_MANAGEMENT_SSL_KEYFILE RABBITMQ_MANAGEMENT_SSL_VERIFY
  RABBITMQ_SSL_CACERTFILE RABBITMQ_SSL_CERTFILE RABBITMQ_SSL_DEPTH RABBITMQ_SSL_FAIL_IF_NO_PEER_CERT
  RABBITMQ_SSL_KEYFILE RABBITMQ_SSL_VERIFY RABBITMQ_VM_MEMORY_HIGH_WATERMARK
)
refused=0
for variable in "${removed_variables[@]}"; do
  if [ -n "${!variable:-}" ]; then
    echo "error: $variable is set, but the image no longer reads it: put the setting into a file under /etc/rabbitmq/conf.d/ instead" >&2
    refused=1
  fi
done
[ "$refused" = 0 ] || exit 1

# `hostname` and `hostname -s` of upstream, from the kernel (the `hostname` tool is not in the image).
full_hostname="$(cat /proc/sys/kernel/hostname)"
if [ -z "${RABBITMQ_USE_LONGNAME:-}" ] && [ "$full_hostname" != "${full_hostname%%.*}" ]; then
  export RABBITMQ_USE_LONGNAME=true
fi

exec "$@"
