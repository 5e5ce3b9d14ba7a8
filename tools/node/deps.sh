# shellcheck shell=bash
# Debian packages the real node needs, installed when missing. Sourced by tools/node/build.sh and the
# system image builds; the caller defines `log` and `die`.
#
#   node_ensure_packages PKG...   install the packages that are not installed yet (apt-get update first)
#
# Runtime: containernetworking-plugins (bridge, host-local, loopback, portmap in /usr/lib/cni),
# iptables (the bridge and portmap plugins call it), nftables (`nft`: kube-proxy's nftables mode).
# Build: gcc + libc6-dev (the static pause binary; runc's cgo), libseccomp-dev + pkg-config (runc's
# seccomp support). Images: busybox-static (the test image).
NODE_RUNTIME_PACKAGES=(containernetworking-plugins iptables nftables iproute2 util-linux)
NODE_BUILD_PACKAGES=(gcc libc6-dev libseccomp-dev pkg-config)

node_ensure_packages() {
  local p missing=()
  for p in "$@"; do
    # Matched in bash: `dpkg-query | grep -q` under pipefail fails when grep exits before dpkg-query's
    # last write. An unknown package makes dpkg-query fail and print nothing: missing.
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    die "missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]}) or run this as root"
  fi
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  log "installing Debian packages: ${missing[*]}"
  # Another apt run (another build) may hold the dpkg lock: wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
    "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}
