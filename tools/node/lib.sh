# shellcheck shell=bash
# Real Kubernetes nodes on this machine, for tools/cluster/cluster.sh (sourced by it after its settings;
# uses its STATE, PKI, PIDS, LOGS, API_PORT, NODE_IP_PREFIX, POD_CIDR, SERVICE_CIDR, node counts, TIMEOUT,
# FIRST_SERVICE_IP and its helpers log, die, child_alive, stop_pids). See tools/node/README.md.
#
# Each node is a network namespace "<prefix>-<node>" whose interface eth0 holds <NODE_IP_PREFIX>(10+i)/24
# and is a veth into the host bridge "<prefix>-br" (<NODE_IP_PREFIX>1, where the API server listens). In
# it run the node's containerd, kubelet and kube-proxy (nsenter --net only: they share the host's mount
# namespace, so the kubelet's volume mounts are the ones containerd sees), each in the cgroup
# "/<prefix>-<node>/node" of every hierarchy; the kubelet puts pods under "/<prefix>-<node>/kubepods".
# Runtime files live in /run/<prefix>/<node> (sockets have a 108-byte path limit), the rest in
# $STATE/nodes/<node>. Everything created carries <prefix>, so `node_down` finds it even after a
# crashed `up`: it kills every process in the instance's cgroups, unmounts everything under its
# directories, and deletes its netns, links, iptables chain and cgroups.

NODE_TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=versions.env
. "$NODE_TOOLS_DIR/versions.env"

REAL_NODES="${LICODE_CLUSTER_REAL_NODES:-1}"          # 0: kwok-only (today's simulated nodes)
NODE_TIMEOUT="${LICODE_CLUSTER_NODE_TIMEOUT:-300}"    # s for every real node to turn Ready, and for DNS
CLUSTER_DOMAIN=cluster.local
# Host-wide record shared by every instance: sysctls to restore when the last one goes down.
NODE_HOST_DIR=/run/licode-nodes
# Host sysctls the nodes change: ip_forward (routing between the bridge and the nodes) and those the
# kubelet sets when protectKernelDefaults is false (pkg/kubelet/cm/container_manager_linux.go 483-527).
NODE_HOST_SYSCTLS=(net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
# Fixed host directories the nodes write to: the kubelet's legacy log symlinks (pkg/kubelet/kubelet.go
# 163, 1758-1763) and libcni's result cache, which containerd's CRI plugin does not move
# (containernetworking/cni v1.3.0 libcni/api.go 41, 242-250). Entries are per instance (the CNI network
# is named after the prefix); the directories go with the last instance if they were not there before.
NODE_LEGACY_LOG_DIR=/var/log/containers
NODE_CNI_CACHE_DIR=/var/lib/cni/results
NODE_HOST_PATHS=("$NODE_LEGACY_LOG_DIR" "$NODE_CNI_CACHE_DIR" /var/lib/cni)

nlog() { echo "[node] $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
# node_settings: derive the instance prefix, the node list and addresses; validate the env.
node_settings() {
  case "$REAL_NODES" in 0 | 1) ;; *) die "LICODE_CLUSTER_REAL_NODES must be 0 or 1 (got '$REAL_NODES')" ;; esac
  NODE_STATE="$STATE/nodes"
  NODE_PREFIX_FILE="$STATE/node-prefix"
  if [ -s "$NODE_PREFIX_FILE" ]; then
    # Recorded by the `up` that created it: `down` must find what it made whatever the env says now.
    NODE_PREFIX="$(cat "$NODE_PREFIX_FILE")"
  elif [ -n "${LICODE_CLUSTER_NAME:-}" ]; then
    NODE_PREFIX="$LICODE_CLUSTER_NAME"
  else
    NODE_PREFIX="lk$(realpath -m "$STATE" | sha256sum | cut -c1-6)"
  fi
  if ! [[ "$NODE_PREFIX" =~ ^[a-z][a-z0-9]{1,9}$ ]]; then
    die "LICODE_CLUSTER_NAME must be 2-10 lower-case letters or digits, starting with a letter (got '$NODE_PREFIX'): it prefixes network devices, whose names are limited to 15 characters"
  fi
  NODE_BRIDGE="$NODE_PREFIX-br"
  NODE_CHAIN="$(printf '%s' "$NODE_PREFIX" | tr '[:lower:]' '[:upper:]')-FORWARD"
  NODE_RUN="/run/$NODE_PREFIX"
  [[ "$NODE_IP_PREFIX" =~ ^([0-9]{1,3}\.){3}$ ]] ||
    die "LICODE_CLUSTER_NODE_IP_PREFIX must be three octets and a dot, like 10.200.0. (got '$NODE_IP_PREFIX')"
  NODE_HOST_IP="${NODE_IP_PREFIX}1"
  NODE_DNS_IP="${FIRST_SERVICE_IP%.*}.10"
  NODE_NAMES=() NODE_IPS=() NODE_LABELS=() NODE_POD_CIDRS=()
  local i n=0
  for ((i = 0; i < SIGNALLING_NODES; i++)); do node_add "signalling-$i" licode.io/signalling=true; done
  for ((i = 0; i < MEDIA_NODES; i++)); do node_add "media-$i" licode.io/media=true,licode.io/media-pool=default; done
  for ((i = 0; i < GENERAL_NODES; i++)); do node_add "general-$i" licode.io/turn=true; done
  if [ "$REAL_NODES" = 1 ]; then
    [[ "$POD_CIDR" =~ ^([0-9]{1,3}\.[0-9]{1,3})\.0\.0/16$ ]] ||
      die "with real nodes LICODE_CLUSTER_POD_CIDR must be a /16 like 10.244.0.0/16 (node i gets x.y.i.0/24; got '$POD_CIDR')"
    [ "${#NODE_NAMES[@]}" -le 100 ] || die "at most 100 real nodes (got ${#NODE_NAMES[@]})"
    for ((n = 0; n < ${#NODE_NAMES[@]}; n++)); do
      NODE_POD_CIDRS+=("${BASH_REMATCH[1]}.$((n + 1)).0/24")
    done
    # kwok's simulated pods (if any fake node is added by hand) take the upper half, apart from the nodes'.
    KWOK_POD_CIDR="${BASH_REMATCH[1]}.128.0/17"
  else
    KWOK_POD_CIDR="$POD_CIDR"
  fi
}

node_add() { # node_add NAME LABELS: the node numbering of tools/cluster (IP <prefix>(10+n), n from 1)
  NODE_NAMES+=("$1")
  NODE_IPS+=("$NODE_IP_PREFIX$((11 + ${#NODE_IPS[@]}))")
  NODE_LABELS+=("$2")
}

node_ns() { printf '%s-%s\n' "$NODE_PREFIX" "$1"; }
node_cgroup() { printf '%s-%s\n' "$NODE_PREFIX" "$1"; }   # relative to each hierarchy's root
node_dir() { printf '%s/%s\n' "$NODE_STATE" "$1"; }
node_run() { printf '%s/%s\n' "$NODE_RUN" "$1"; }
node_in() { local ns; ns="$(node_ns "$1")"; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

# ---------------------------------------------------------------------------------------------
# Preflight and build
# ---------------------------------------------------------------------------------------------
node_preflight() {
  [ "$(id -u)" = 0 ] ||
    die "real nodes need root (network namespaces, cgroups, mounts); run as root, or set LICODE_CLUSTER_REAL_NODES=0 for simulated (kwok) nodes"
  [ "${#NODE_NAMES[@]}" -gt 0 ] || die "no nodes configured (LICODE_CLUSTER_{SIGNALLING,MEDIA,GENERAL}_NODES are all 0)"
  case "$STATE" in *[[:space:]]*) die "the state dir must not contain spaces: '$STATE' (set LICODE_CLUSTER_DIR)" ;; esac
  [ -d /sys/fs/cgroup/freezer ] || die "no cgroup v1 freezer hierarchy at /sys/fs/cgroup/freezer: tools/node supports this machine's cgroup v1 layout only (see tools/node/README.md)"
  local other
  # Another instance (or anything else) using our addresses or pod ranges would make routing ambiguous.
  if other="$(ip -o -4 addr show | awk -v ip="$NODE_HOST_IP" '$4 ~ "^"ip"/" {print $2}')" && [ -n "$other" ] && [ "$other" != "$NODE_BRIDGE" ]; then
    die "$NODE_HOST_IP is already on interface $other (another cluster?); set LICODE_CLUSTER_NODE_IP_PREFIX to a free /24, e.g. 10.201.0."
  fi
  local cidr routes route dev
  for cidr in "${NODE_POD_CIDRS[@]}"; do
    # Every route to the range must be ours (via our bridge): another one, beside ours or alone (a
    # blackhole has no device), decides where pods' packets go instead.
    routes="$(ip -4 route show "$cidr")"
    while IFS= read -r route; do
      route="${route%"${route##*[![:space:]]}"}" # ip ends some lines with a blank
      [ -n "$route" ] || continue
      dev=""
      if [[ " $route " =~ \ dev\ ([^[:space:]]+)\  ]]; then dev="${BASH_REMATCH[1]}"; fi
      [ "$dev" = "$NODE_BRIDGE" ] ||
        die "the host already routes $cidr ($route): set LICODE_CLUSTER_POD_CIDR to another /16, e.g. 10.245.0.0/16"
    done <<<"$routes"
  done
  [ "$(cat "$STATE/node-prefix" 2>/dev/null || echo "$NODE_PREFIX")" = "$NODE_PREFIX" ] || die "internal: prefix mismatch"
}

# node_build: the node binaries (NODE_BIN) and the system images (NODE_SYSTEM_IMAGES: result lines).
node_build() {
  local line
  NODE_BIN="${LICODE_NODE_BIN:-}"
  if [ -z "$NODE_BIN" ]; then
    NODE_BIN="$("$NODE_TOOLS_DIR/build.sh" 9>&- | tail -1)" || die "tools/node/build.sh failed"
  fi
  for line in containerd containerd-shim-runc-v2 ctr runc kubelet kube-proxy; do
    [ -x "$NODE_BIN/$line" ] || die "missing $NODE_BIN/$line (tools/node/build.sh)"
  done
  NODE_SYSTEM_IMAGES=()
  for line in pause coredns kube-network-policies; do
    line="$("$REPO_ROOT/tools/images/$line/build.sh" 9>&- | tail -1)" || die "tools/images/$line/build.sh failed"
    NODE_SYSTEM_IMAGES+=("$line")
  done
  NODE_PAUSE_REF="$(printf '%s\n' "${NODE_SYSTEM_IMAGES[0]}" | cut -f2)"
  NODE_COREDNS_IMAGE="$(node_digest_ref "${NODE_SYSTEM_IMAGES[1]}")"
  NODE_NETPOL_IMAGE="$(node_digest_ref "${NODE_SYSTEM_IMAGES[2]}")"
}

# node_digest_ref RESULT-LINE: "<name>:<tag>@<digest>" — the form the system manifests use.
node_digest_ref() { printf '%s@%s\n' "$(printf '%s' "$1" | cut -f2)" "$(printf '%s' "$1" | cut -f3)"; }

# ---------------------------------------------------------------------------------------------
# Host-wide record (several instances may run side by side; the last one down restores the host)
# ---------------------------------------------------------------------------------------------
node_host_lock() { exec 7</run && flock 7; }
node_host_unlock() { flock -u 7 && exec 7<&-; }

node_host_register() {
  node_host_lock
  mkdir -p "$NODE_HOST_DIR/instances"
  if [ ! -f "$NODE_HOST_DIR/sysctl.orig" ]; then
    local s
    for s in "${NODE_HOST_SYSCTLS[@]}"; do printf '%s=%s\n' "$s" "$(sysctl -n "$s")"; done >"$NODE_HOST_DIR/sysctl.orig.tmp"
    for s in "${NODE_HOST_PATHS[@]}"; do [ -e "$s" ] || printf '%s\n' "$s"; done >"$NODE_HOST_DIR/paths.new"
    # iptables (nf_tables backend) creates the table `ip filter` with its first rule.
    nft list table ip filter >/dev/null 2>&1 || touch "$NODE_HOST_DIR/filter-table.new"
    mv "$NODE_HOST_DIR/sysctl.orig.tmp" "$NODE_HOST_DIR/sysctl.orig"
  fi
  printf '%s\n' "$STATE" >"$NODE_HOST_DIR/instances/$NODE_PREFIX"
  sysctl -qw net.ipv4.ip_forward=1
  node_host_unlock
}

node_host_unregister() {
  [ -d "$NODE_HOST_DIR" ] || return 0
  node_host_lock
  rm -f "$NODE_HOST_DIR/instances/$NODE_PREFIX"
  if [ -z "$(ls -A "$NODE_HOST_DIR/instances" 2>/dev/null)" ]; then
    local kv
    if [ -f "$NODE_HOST_DIR/sysctl.orig" ]; then
      while IFS= read -r kv; do sysctl -qw "$kv" || nlog "could not restore sysctl $kv"; done <"$NODE_HOST_DIR/sysctl.orig"
    fi
    # Directories the nodes created (listed in order: children before parents), if empty.
    while IFS= read -r kv; do rmdir "$kv" 2>/dev/null || true; done <"$NODE_HOST_DIR/paths.new"
    # The filter table the FORWARD chain made, if it holds nothing now (no rule, every policy ACCEPT).
    if [ -f "$NODE_HOST_DIR/filter-table.new" ]; then
      kv="$(iptables-save -t filter 2>/dev/null)" || kv="-A unreadable"
      if ! grep -q -e '^-A' -e '^:[A-Z]* DROP' <<<"$kv"; then nft delete table ip filter 2>/dev/null || true; fi
    fi
    rm -rf "$NODE_HOST_DIR"
  fi
  node_host_unlock
}

# ---------------------------------------------------------------------------------------------
# Network: bridge, one netns per node, routes, forwarding
# ---------------------------------------------------------------------------------------------
node_net_up() {
  local i name ns ip veth j
  mkdir -p "$STATE"
  printf '%s\n' "$NODE_PREFIX" >"$NODE_PREFIX_FILE"
  node_host_register
  ip link add "$NODE_BRIDGE" type bridge
  ip link set "$NODE_BRIDGE" alias "licode-cluster $STATE"
  ip addr add "$NODE_HOST_IP/24" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  for ((i = 0; i < ${#NODE_NAMES[@]}; i++)); do
    name="${NODE_NAMES[$i]}" ip="${NODE_IPS[$i]}" ns="$(node_ns "$name")" veth="$NODE_PREFIX-${NODE_IPS[$i]##*.}"
    ip netns add "$ns"
    ip link add "$veth" type veth peer name "${veth}p"
    ip link set "${veth}p" netns "$ns"
    ip link set "$veth" master "$NODE_BRIDGE" up
    node_in "$name" ip link set "${veth}p" name eth0
    node_in "$name" ip addr add "$ip/24" dev eth0
    node_in "$name" ip link set lo up
    node_in "$name" ip link set eth0 up
    node_in "$name" ip route add default via "$NODE_HOST_IP"
    # Routing between pods (the node forwards), and bridged pod traffic through netfilter (kube-proxy
    # and the NetworkPolicy enforcer see pod-to-pod packets on the node's CNI bridge).
    node_in "$name" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
    # The host reaches each node's pods through that node.
    ip route add "${NODE_POD_CIDRS[$i]}" via "$ip" dev "$NODE_BRIDGE"
  done
  # Node to node: each pod range directly through its node (one hop on the bridge, not via the host).
  for ((i = 0; i < ${#NODE_NAMES[@]}; i++)); do
    for ((j = 0; j < ${#NODE_NAMES[@]}; j++)); do
      [ "$i" = "$j" ] || node_in "${NODE_NAMES[$i]}" ip route add "${NODE_POD_CIDRS[$j]}" via "${NODE_IPS[$j]}" dev eth0
    done
  done
  # Forwarding on the host for traffic into and out of the bridge, in a chain of our own.
  iptables -N "$NODE_CHAIN"
  iptables -A "$NODE_CHAIN" -i "$NODE_BRIDGE" -j ACCEPT
  iptables -A "$NODE_CHAIN" -o "$NODE_BRIDGE" -j ACCEPT
  iptables -I FORWARD 1 -m comment --comment "$NODE_PREFIX licode cluster nodes" -j "$NODE_CHAIN"
}

# ---------------------------------------------------------------------------------------------
# cgroups (v1 hierarchies plus the unified one when mounted)
# ---------------------------------------------------------------------------------------------
cg_mounts() { awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts; }

cg_create() { # cg_create REL: mkdir in every hierarchy; cpuset needs cpus/mems before it takes tasks
  local m path part
  for m in $(cg_mounts); do
    path="$m"
    for part in ${1//\// }; do
      path="$path/$part"
      [ -d "$path" ] || mkdir "$path"
      if [ -f "$path/cpuset.cpus" ] && [ -z "$(cat "$path/cpuset.cpus")" ]; then
        cat "$(dirname "$path")/cpuset.cpus" >"$path/cpuset.cpus"
        cat "$(dirname "$path")/cpuset.mems" >"$path/cpuset.mems"
      fi
    done
  done
}

cg_enter() { # cg_enter REL PID
  local m
  for m in $(cg_mounts); do echo "$2" >"$m/$1/cgroup.procs"; done
}

cg_instance_dirs() { # every top-level cgroup of this instance, in every hierarchy
  local m
  for m in $(cg_mounts); do find "$m" -mindepth 1 -maxdepth 1 -type d -name "$NODE_PREFIX-*" 2>/dev/null; done
}

cg_instance_pids() {
  local d
  for d in $(cg_instance_dirs); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -un
}

# Kill every process of this instance: freeze its cgroups (no new forks), SIGKILL, thaw, repeat.
cg_kill_all() {
  local round pids d
  for round in $(seq 1 50); do
    pids="$(cg_instance_pids)"
    [ -n "$pids" ] || return 0
    for d in /sys/fs/cgroup/freezer/"$NODE_PREFIX"-*; do [ -d "$d" ] && echo FROZEN >"$d/freezer.state" 2>/dev/null; done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    for d in /sys/fs/cgroup/freezer/"$NODE_PREFIX"-*; do [ -d "$d" ] && echo THAWED >"$d/freezer.state" 2>/dev/null; done
    sleep 0.1
  done
  nlog "processes still in the cgroups of $NODE_PREFIX after 50 rounds of SIGKILL: $(cg_instance_pids | tr '\n' ' ')"
  return 1
}

cg_remove_all() {
  local d
  for d in $(cg_instance_dirs); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ ! -d "$d" ] || nlog "could not remove cgroup $d"
  done
}

# ---------------------------------------------------------------------------------------------
# Mounts
# ---------------------------------------------------------------------------------------------
# Mount points at or under any of the given directories, deepest first (mountinfo escapes octal).
mounts_under() {
  local dirs
  dirs="$(printf '%s\n' "$@")"
  awk '{print $5}' /proc/self/mountinfo | while IFS= read -r m; do printf '%b\n' "$m"; done |
    awk -v dirs="$dirs" 'BEGIN { n = split(dirs, d, "\n") }
      { for (i = 1; i <= n; i++) if (d[i] != "" && ($0 == d[i] || index($0, d[i] "/") == 1)) { print length($0) "\t" $0; break } }' |
    sort -rn | cut -f2- | awk '!seen[$0]++'
}

unmount_under() { # unmount everything under the given dirs (repeated: unmounting can uncover mounts)
  local round m left
  for round in 1 2 3 4 5; do
    left="$(mounts_under "$@")"
    [ -n "$left" ] || return 0
    while IFS= read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done <<<"$left"
  done
  left="$(mounts_under "$@")"
  [ -z "$left" ] || { nlog "still mounted: $left"; return 1; }
}

# ---------------------------------------------------------------------------------------------
# PKI and configuration
# ---------------------------------------------------------------------------------------------
node_sign() { # node_sign DIR NAME SUBJECT EXTENSIONS: a key and a certificate signed by the cluster CA
  local dir="$1" name="$2"
  [ -s "$dir/$name.crt" ] && return 0
  (
    cd "$dir"
    umask 077
    openssl req -new -newkey rsa:2048 -nodes -keyout "$name.key" -subj "$3" 2>/dev/null |
      openssl x509 -req -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 3650 -out "$name.crt.tmp" \
        -extfile <(printf '%s\n' "$4") 2>/dev/null && mv "$name.crt.tmp" "$name.crt"
  ) || die "signing $name failed"
}

NODE_CLIENT_EXT="$(printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=clientAuth')"

node_make_pki() {
  local name
  mkdir -p "$PKI/nodes"
  # The API server's client certificate towards the kubelets (logs, exec, port-forward).
  node_sign "$PKI" apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$NODE_CLIENT_EXT"
  # kube-proxy: the user the default ClusterRoleBinding system:node-proxier names.
  node_sign "$PKI/nodes" kube-proxy "/CN=system:kube-proxy" "$NODE_CLIENT_EXT"
  for name in "${NODE_NAMES[@]}"; do
    # The Node authorizer and NodeRestriction admit kubelets as system:node:<name> in system:nodes.
    node_sign "$PKI/nodes" "kubelet-$name" "/O=system:nodes/CN=system:node:$name" "$NODE_CLIENT_EXT"
  done
}

node_kubeconfig() { # node_kubeconfig FILE CERT-BASENAME
  local b64="base64 -w0"
  umask 077
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: licode-local
  cluster:
    server: https://$NODE_HOST_IP:$API_PORT
    certificate-authority-data: $($b64 <"$PKI/ca.crt")
users:
- name: node
  user:
    client-certificate-data: $($b64 <"$2.crt")
    client-key-data: $($b64 <"$2.key")
contexts:
- name: licode-local
  context: {cluster: licode-local, user: node}
current-context: licode-local
EOF
  umask 022
}

# node_write_configs INDEX: containerd, CNI, kubelet and kube-proxy configuration of one node.
node_write_configs() {
  local i="$1" name="${NODE_NAMES[$1]}" dir run
  dir="$(node_dir "$name")" run="$(node_run "$name")"
  mkdir -p "$dir/cni/net.d" "$dir/cni/ipam" "$dir/kubelet" "$dir/pod-logs" "$dir/volume-plugins" "$run"
  node_kubeconfig "$dir/kubelet.kubeconfig" "$PKI/nodes/kubelet-$name"
  node_kubeconfig "$dir/kube-proxy.kubeconfig" "$PKI/nodes/kube-proxy"

  # containerd (config version 4: `containerd config default` of v2.3.7). Every path is the node's own
  # (pod netns mounts too: netns_mounts_under_state_dir); no host config is imported; plugins that would
  # use fixed host paths are disabled (opt: /opt/containerd; NRI: /var/run/nri/nri.sock, one socket for
  # every containerd on the host; image-verifier: /opt/containerd/image-verifier/bin).
  cat >"$dir/containerd.toml" <<EOF
version = 4
root = "$dir/containerd"
state = "$run/containerd"
imports = []
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.nri.v1.nri", "io.containerd.image-verifier.v1.bindir"]

[plugins."io.containerd.server.v1.grpc"]
  address = "$run/containerd.sock"

[plugins."io.containerd.server.v1.ttrpc"]
  address = "$run/containerd.sock.ttrpc"

[plugins."io.containerd.shim.v1.manager"]
  socket_dir = "$run/s"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "$NODE_PAUSE_REF"

[plugins."io.containerd.cri.v1.runtime"]
  cdi_spec_dirs = ["$dir/cdi"]
  netns_mounts_under_state_dir = true
  # This machine's capability bounding set lacks CAP_SYS_RESOURCE: nothing may lower an
  # oom_score_adj, and runc fails on the kubelet's -998 for sandboxes. Clamp to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "$NODE_BIN/runc"
        Root = "$run/runc"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$dir/cni/net.d"
    max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
EOF

  # CNI: one bridge per node, its own /24, no NAT (the nodes and the host route every pod range).
  cat >"$dir/cni/net.d/10-licode.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$NODE_PREFIX",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "${NODE_POD_CIDRS[$i]}" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$dir/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF

  # No upstream DNS reachable: pods with dnsPolicy Default get a resolv.conf with the search path only.
  printf 'search %s\n' "$CLUSTER_DOMAIN" >"$dir/resolv.conf"

  cat >"$dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 host: the kubelet refuses to start unless this is false (k8s v1.36.3
# pkg/kubelet/apis/config/validation/validation_linux.go 34-37; the default is true since 1.35,
# pkg/kubelet/apis/config/v1beta1/defaults.go 293-295).
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$(node_cgroup "$name")
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
containerRuntimeEndpoint: unix://$run/containerd.sock
address: ${NODE_IPS[$i]}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
clusterDNS: [$NODE_DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $dir/resolv.conf
podLogsDir: $dir/pod-logs
volumePluginDir: $dir/volume-plugins
rotateCertificates: false
serverTLSBootstrap: false
failSwapOn: false
maxPods: 110
# Images come only from 'cluster.sh import' (there is no registry): never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# The disk is shared with everything else on this machine: evict only when it is really full.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 2%
  nodefs.inodesFree: 2%
  imagefs.available: 2%
EOF

  cat >"$dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection:
  kubeconfig: $dir/kube-proxy.kubeconfig
hostnameOverride: $name
bindAddress: 0.0.0.0
clusterCIDR: $POD_CIDR
detectLocalMode: ClusterCIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [primary]
# 0: leave the netns's conntrack settings alone (nf_conntrack_max is read-only outside the host netns).
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------
# node_spawn NODE COMPONENT CMD...: start CMD in the node's netns and cgroup, detached, logging to
# $LOGS/<node>.<component>.log; its PID goes to $PIDS/node-<node>.<component>.pid.
node_spawn() {
  local name="$1" comp="$2" log pidf
  shift 2
  log="$LOGS/$name.$comp.log" pidf="$PIDS/node-$name.$comp.pid"
  : >"$log"
  (
    cg_enter "$(node_cgroup "$name")/node" "$BASHPID"
    exec setsid nsenter --net="/run/netns/$(node_ns "$name")" -- env PATH="$NODE_BIN:$PATH" "$@"
  ) </dev/null >>"$log" 2>&1 7<&- 9>&- &
  echo $! >"$pidf"
  disown $!   # stopped by node_down, not waited for by this shell
}

node_pid() { # node_pid NODE COMPONENT: the PID if that process is alive
  local pid
  pid="$(cat "$PIDS/node-$1.$2.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && child_alive "$pid" && echo "$pid"
}

node_fail() { # node_fail NODE COMPONENT MESSAGE: show the log tail and fail the `up`
  echo "[node] ERROR: $1 $2 $3" >&2
  echo "[node] ---- last 40 lines of $LOGS/$1.$2.log ----" >&2
  tail -n 40 "$LOGS/$1.$2.log" >&2 || true
  echo "[node] ----" >&2
  return 1
}

node_ctr() { local name="$1"; shift; "$NODE_BIN/ctr" --address "$(node_run "$name")/containerd.sock" -n k8s.io "$@"; }

node_wait_containerd() { # node_wait_containerd NODE
  local deadline=$((SECONDS + TIMEOUT))
  until node_ctr "$1" version >/dev/null 2>&1; do
    node_pid "$1" containerd >/dev/null || { node_fail "$1" containerd "exited during startup"; return 1; }
    [ "$SECONDS" -lt "$deadline" ] || { node_fail "$1" containerd "did not answer within ${TIMEOUT}s"; return 1; }
    sleep 0.2
  done
}

# node_import NODE ARCHIVE...: import OCI archives (tools/images/oci-pack.js) into the node's containerd,
# namespace k8s.io. `ctr images import` names the image after the index's io.containerd.image.name
# annotation (<name>:<tag>); the CRI plugin resolves "<name>@<digest>" and "<name>:<tag>@<digest>"
# (docker reference normalisation drops the tag) only through an image of exactly that name, which a
# registry pull would have made: the second name is added with `ctr images tag`. (`--digests` names
# the digest image after the index instead, "import-<date>@<index digest>".) Both names are labelled
# pinned, so the kubelet's image garbage collection never removes them.
node_import() {
  local name="$1" archive out ref digest
  shift
  for archive in "$@"; do
    out="$(node_ctr "$name" images import "$archive" 2>&1)" ||
      { echo "[node] ERROR: importing $archive into $name failed: $out" >&2; return 1; }
    while IFS=$'\t' read -r ref digest; do
      [ -n "$ref" ] || continue
      out="$({ node_ctr "$name" images tag --force "$ref" "${ref%:*}@$digest" &&
        node_ctr "$name" images label "$ref" io.cri-containerd.pinned=pinned &&
        node_ctr "$name" images label "${ref%:*}@$digest" io.cri-containerd.pinned=pinned; } 2>&1)" ||
        { echo "[node] ERROR: naming $ref@$digest on $name failed: $out" >&2; return 1; }
    done < <(node_archive_images "$archive")
  done
}

# node_archive_images ARCHIVE: "<name:tag>\t<manifest digest>" for each image an OCI archive names.
node_archive_images() {
  tar -xOf "$1" index.json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const m of JSON.parse(s).manifests ?? []) {
        const name = (m.annotations ?? {})["io.containerd.image.name"];
        if (name) console.log(`${name}\t${m.digest}`);
      }
    });'
}

# node_import_all ARCHIVE...: into every node, the nodes in parallel.
node_import_all() {
  local name pids=() rc=0 p
  for name in "${NODE_NAMES[@]}"; do
    node_import "$name" "$@" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}

node_start_all() {
  local i name dir
  node_make_pki
  printf '%s\n' "$NODE_BIN" >"$STATE/node-bin"   # for `cluster.sh import`
  for ((i = 0; i < ${#NODE_NAMES[@]}; i++)); do
    name="${NODE_NAMES[$i]}"
    dir="$(node_dir "$name")"
    if [ "$KEEP_DATA" != 1 ]; then rm -rf "$dir"; fi
    node_write_configs "$i"
    cg_create "$(node_cgroup "$name")/node"
    node_spawn "$name" containerd containerd --config "$dir/containerd.toml" --log-level warn
  done
  for name in "${NODE_NAMES[@]}"; do node_wait_containerd "$name" || return 1; done
  local archives=() line
  for line in "${NODE_SYSTEM_IMAGES[@]}"; do archives+=("$(printf '%s' "$line" | cut -f1)"); done
  nlog "importing the system images into ${#NODE_NAMES[@]} nodes"
  node_import_all "${archives[@]}" || return 1
  for ((i = 0; i < ${#NODE_NAMES[@]}; i++)); do
    name="${NODE_NAMES[$i]}"
    dir="$(node_dir "$name")"
    node_spawn "$name" kube-proxy kube-proxy --config="$dir/kube-proxy.yaml"
    node_spawn "$name" kubelet kubelet --config="$dir/kubelet.yaml" --kubeconfig="$dir/kubelet.kubeconfig" \
      --root-dir="$dir/kubelet" --hostname-override="$name" --node-ip="${NODE_IPS[$i]}" \
      ${NODE_LABELS[$i]:+--node-labels="${NODE_LABELS[$i]}"}
  done
}

# node_wait_ready: every real node registered and Ready; their pod ranges recorded in the Node objects.
node_wait_ready() {
  local deadline=$((SECONDS + NODE_TIMEOUT)) i name status ready c
  local -A cidr_done=()
  while :; do
    ready=0
    for ((i = 0; i < ${#NODE_NAMES[@]}; i++)); do
      name="${NODE_NAMES[$i]}"
      for c in kubelet kube-proxy containerd; do
        node_pid "$name" "$c" >/dev/null || { node_fail "$name" "$c" "exited"; return 1; }
      done
      status="$(kctl get node "$name" -o jsonpath='{.spec.podCIDR} {.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" || continue
      if [ -z "${cidr_done[$name]:-}" ] && [ "${status%% *}" = "" ]; then
        # The kubelet passes the Node's podCIDR to the runtime; the CNI config already holds it.
        kctl patch node "$name" --type=merge \
          -p "{\"spec\":{\"podCIDR\":\"${NODE_POD_CIDRS[$i]}\",\"podCIDRs\":[\"${NODE_POD_CIDRS[$i]}\"]}}" >/dev/null 2>&1 &&
          cidr_done[$name]=1
      fi
      [ "${status##* }" = True ] && ready=$((ready + 1))
    done
    [ "$ready" = "${#NODE_NAMES[@]}" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      for name in "${NODE_NAMES[@]}"; do node_fail "$name" kubelet "(not Ready within ${NODE_TIMEOUT}s)" || true; done
      return 1
    fi
    sleep 0.5
  done
}

# node_system_objects: CoreDNS (kube-dns at .10 of the service range) and the NetworkPolicy enforcer.
node_system_objects() {
  local f
  for f in coredns kube-network-policies; do
    sed -e "s|__COREDNS_IMAGE__|$NODE_COREDNS_IMAGE|g" -e "s|__NETPOL_IMAGE__|$NODE_NETPOL_IMAGE|g" \
      -e "s|__DNS_IP__|$NODE_DNS_IP|g" -e "s|__CLUSTER_DOMAIN__|$CLUSTER_DOMAIN|g" \
      "$NODE_TOOLS_DIR/manifests/$f.yaml"
    echo "---"
  done >"$STATE/node-objects.yaml"
  kctl apply -f "$STATE/node-objects.yaml" >"$LOGS/node-objects.log" 2>&1 ||
    { echo "[node] ERROR: the API server rejected the system objects: $(cat "$LOGS/node-objects.log")" >&2; return 1; }
  kctl -n kube-system rollout status deployment/coredns --timeout="${NODE_TIMEOUT}s" >>"$LOGS/node-objects.log" 2>&1 ||
    { echo "[node] ERROR: CoreDNS did not become available: $(tail -5 "$LOGS/node-objects.log")" >&2; kctl -n kube-system get pods -o wide >&2; return 1; }
  kctl -n kube-system rollout status daemonset/kube-network-policies --timeout="${NODE_TIMEOUT}s" >>"$LOGS/node-objects.log" 2>&1 ||
    { echo "[node] ERROR: kube-network-policies did not become ready: $(tail -5 "$LOGS/node-objects.log")" >&2; kctl -n kube-system get pods -o wide >&2; return 1; }
}

# ---------------------------------------------------------------------------------------------
# Teardown: finds everything by prefix, so it also cleans up after a crashed `up`.
# ---------------------------------------------------------------------------------------------
node_down() {
  if ! [ -s "$NODE_PREFIX_FILE" ] && ! [ -d "$NODE_RUN" ] && [ -z "$(cg_instance_dirs)" ]; then
    # Nothing running; only node state kept by an earlier LICODE_CLUSTER_KEEP_DATA=1 may be left.
    if [ "$KEEP_DATA" != 1 ] && [ -d "$NODE_STATE" ] && [ -z "$(mounts_under "$NODE_STATE")" ]; then rm -rf "$NODE_STATE"; fi
    return 0
  fi
  local name pid ns link rc=0 f
  # The kubelets and kube-proxies first, politely (the containers are killed with the cgroups).
  for f in "$PIDS"/node-*.kubelet.pid "$PIDS"/node-*.kube-proxy.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")" && [[ "$pid" =~ ^[0-9]+$ ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  cg_kill_all || rc=1
  rm -f "$PIDS"/node-*.pid
  unmount_under "$NODE_RUN" "$NODE_STATE" || rc=1
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NODE_PREFIX-" || true); do
    ip netns del "$ns" 2>/dev/null || { nlog "could not delete netns $ns"; rc=1; }
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^$NODE_PREFIX-" || true); do
    ip link del "$link" 2>/dev/null || true
  done
  if command -v iptables >/dev/null; then
    while iptables -D FORWARD -m comment --comment "$NODE_PREFIX licode cluster nodes" -j "$NODE_CHAIN" 2>/dev/null; do :; done
    iptables -F "$NODE_CHAIN" 2>/dev/null || true
    iptables -X "$NODE_CHAIN" 2>/dev/null || true
  fi
  cg_remove_all
  [ -z "$(cg_instance_dirs)" ] || rc=1
  # The kubelets' legacy log symlinks that point into our state, and our CNI results.
  if [ -d "$NODE_LEGACY_LOG_DIR" ]; then
    find "$NODE_LEGACY_LOG_DIR" -maxdepth 1 -type l -lname "$NODE_STATE/*" -delete 2>/dev/null || true
  fi
  rm -f "$NODE_CNI_CACHE_DIR/$NODE_PREFIX-"*
  # The loopback network's results are named after the sandbox: the ids of our tasks say which.
  local id
  for id in $(find "$NODE_RUN" -mindepth 5 -maxdepth 5 -path '*/io.containerd.runtime.v2.task/*' -type d -printf '%f\n' 2>/dev/null); do
    rm -f "$NODE_CNI_CACHE_DIR/cni-loopback-$id-lo"
  done
  rm -rf "$NODE_RUN"
  if [ "$KEEP_DATA" != 1 ]; then
    [ -z "$(mounts_under "$NODE_STATE")" ] && rm -rf "$NODE_STATE"
  fi
  node_host_unregister
  rm -f "$NODE_PREFIX_FILE"
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------------------------
node_status() { # one line per node component (with its resident memory) and per node; 1 if any is down
  local name c pid rc=0 rss memcg
  for name in "${NODE_NAMES[@]}"; do
    for c in containerd kube-proxy kubelet; do
      if pid="$(node_pid "$name" "$c")"; then
        rss="$(awk '/^VmRSS:/ {printf "%d", $2 / 1024}' "/proc/$pid/status" 2>/dev/null)"
        printf '%-24s %-8s %s\n' "$name/$c" "$pid" "running, RSS ${rss:-?} MiB"
      else
        printf '%-24s %-8s %s\n' "$name/$c" - stopped
        rc=1
      fi
    done
    # The node's cgroup: its daemons, shims and pods (anonymous memory, and all charged memory).
    memcg="/sys/fs/cgroup/memory/$(node_cgroup "$name")"
    if [ -f "$memcg/memory.stat" ]; then
      printf '%-24s %-8s %s\n' "$name (cgroup)" - "$(awk '/^total_rss / {r = $2} END {printf "anon %d MiB", r / 1048576}' "$memcg/memory.stat"), charged $(($(cat "$memcg/memory.usage_in_bytes") / 1048576)) MiB"
    fi
  done
  return "$rc"
}
