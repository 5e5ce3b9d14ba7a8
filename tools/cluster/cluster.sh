#!/usr/bin/env bash
# Local Kubernetes cluster for tests and the demo: etcd + kube-apiserver + kube-controller-manager +
# kube-scheduler + kwok, and real nodes (tools/node: containerd, kubelet, kube-proxy, CoreDNS,
# NetworkPolicy enforcement, each node in its own network namespace; root only). With
# LICODE_CLUSTER_REAL_NODES=0 the nodes are kwok's simulated ones and everything is on 127.0.0.1.
#
#   cluster.sh up                start (builds what is not cached); idempotent
#   cluster.sh down              stop by recorded PIDs and prefix; idempotent, also cleans up after a crashed `up`
#   cluster.sh status            component health and nodes; exits non-zero if the cluster is not up
#   cluster.sh kubectl …         run the built kubectl against the cluster
#   cluster.sh import ARCHIVE…   import OCI archives (tools/images result lines with `-`: read from stdin)
#                                into every real node's containerd
#
# State (kubeconfig, pki, pids, logs, etcd data, node state) lives in $LICODE_CLUSTER_DIR (default
# <repo>/.cluster). See README.md and tools/node/README.md for the environment variables.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
# shellcheck source=../node/lib.sh
. "$CLUSTER_TOOLS_DIR/../node/lib.sh"

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
STATE="${LICODE_CLUSTER_DIR:-$REPO_ROOT/.cluster}"
BIN="${LICODE_CLUSTER_BIN:-$CLUSTER_BIN}"
ETCD_PORT="${LICODE_CLUSTER_ETCD_PORT:-23379}"
ETCD_PEER_PORT="${LICODE_CLUSTER_ETCD_PEER_PORT:-23380}"
API_PORT="${LICODE_CLUSTER_API_PORT:-26443}"
KCM_PORT="${LICODE_CLUSTER_KCM_PORT:-20257}"
SCHED_PORT="${LICODE_CLUSTER_SCHEDULER_PORT:-20259}"
KWOK_PORT="${LICODE_CLUSTER_KWOK_PORT:-20280}"
SIGNALLING_NODES="${LICODE_CLUSTER_SIGNALLING_NODES:-2}"
MEDIA_NODES="${LICODE_CLUSTER_MEDIA_NODES:-2}"
GENERAL_NODES="${LICODE_CLUSTER_GENERAL_NODES:-1}"
NODE_IP_PREFIX="${LICODE_CLUSTER_NODE_IP_PREFIX:-10.200.0.}"   # node i gets <prefix>(10+i)
POD_CIDR="${LICODE_CLUSTER_POD_CIDR:-10.244.0.0/16}"
SERVICE_CIDR="${LICODE_CLUSTER_SERVICE_CIDR:-10.96.0.0/16}"
LB_IP="${LICODE_CLUSTER_LB_IP:-127.0.0.1}"
STORAGE_CLASS="${LICODE_CLUSTER_STORAGE_CLASS:-standard}"
TIMEOUT="${LICODE_CLUSTER_TIMEOUT:-90}"    # seconds per component / for nodes to become Ready
KEEP_DATA="${LICODE_CLUSTER_KEEP_DATA:-0}" # 1: keep etcd data across down/up

PKI="$STATE/pki"
PIDS="$STATE/pids"
LOGS="$STATE/logs"
KUBECONFIG_OUT="$STATE/kubeconfig"
ADMIN_KC="$PKI/admin.kubeconfig"   # used by the components; $KUBECONFIG_OUT is the user's copy
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)   # start order

log() { echo "[cluster] $*" >&2; }
die() { echo "[cluster] ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Process helpers (everything is tracked by PID files in $PIDS)
# ---------------------------------------------------------------------------------------------
# PID of a component if it is running and really is ours (cmdline mentions our state dir).
component_pid() {
  local f="$PIDS/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  local cmd
  cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  case "$cmd" in *"$STATE/"*) echo "$pid" ;; *) return 1 ;; esac
}

# Alive and not a zombie. For a process this invocation just spawned, use this rather than
# component_pid: until the child has exec'd, its cmdline is still this script's.
child_alive() {
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  case "$st" in Z*|"") return 1 ;; esac
}

stop_pids() { # stop_pids NAME:PID...: SIGTERM all, wait up to 15 s, then SIGKILL the rest
  local item pid left i
  for item in "$@"; do kill -TERM "${item#*:}" 2>/dev/null || true; done
  for i in $(seq 1 150); do
    left=()
    for item in "$@"; do child_alive "${item#*:}" && left+=("$item"); done
    [ "${#left[@]}" = 0 ] && break
    sleep 0.1
  done
  for item in "${left[@]}"; do
    log "${item%%:*} (pid ${item#*:}) did not exit after SIGTERM; sending SIGKILL"
    kill -KILL "${item#*:}" 2>/dev/null || true
  done
  for item in "$@"; do
    for i in $(seq 1 50); do child_alive "${item#*:}" || break; sleep 0.1; done
    log "stopped ${item%%:*} (pid ${item#*:})"
  done
}

# PIDs of a component: its PID file, plus any process running $BIN/<name> with our state dir on
# its command line (a PID file lost when `up` was killed right after a spawn).
component_pids() {
  local name="$1" f pid cmd
  {
    component_pid "$name" || true
    for f in $(grep -lsF -- "$STATE/" /proc/[0-9]*/cmdline 2>/dev/null); do
      pid="${f#/proc/}"; pid="${pid%/cmdline}"
      cmd="$(tr '\0' ' ' 2>/dev/null <"$f")" || continue
      case "$cmd" in
        "$BIN/$name "*"$STATE/"*) echo "$pid" ;;
      esac
    done
  } | sort -u
}

stop_all() { # the real nodes (by prefix), then by PID: the clients (together), kube-apiserver, etcd
  local group name pid items
  node_down || log "some node resources could not be removed (see the messages above)"
  for group in "kwok kube-scheduler kube-controller-manager" kube-apiserver etcd; do
    items=()
    for name in $group; do
      for pid in $(component_pids "$name"); do items+=("$name:$pid"); done
    done
    [ "${#items[@]}" = 0 ] || stop_pids "${items[@]}"
    for name in $group; do rm -f "$PIDS/$name.pid"; done
  done
  stray_pids_kill
}

# Our tools still working on this state dir after an `up` was killed (a kubectl wait, a ctr import).
stray_pids_kill() {
  local f pid argv0
  for f in $(grep -lsF -- "$STATE/" /proc/[0-9]*/cmdline 2>/dev/null); do
    pid="${f#/proc/}" pid="${pid%/cmdline}"
    IFS= read -r -d '' argv0 <"$f" 2>/dev/null || [ -n "${argv0:-}" ] || continue
    case "$(basename -- "$argv0")" in
      kubectl | ctr) log "stopping leftover $(basename -- "$argv0") (pid $pid)"; kill -KILL "$pid" 2>/dev/null || true ;;
    esac
  done
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_component() { # start_component NAME ARGS...
  local name="$1"; shift
  : >"$LOGS/$name.log"
  setsid "$BIN/$name" "$@" </dev/null >>"$LOGS/$name.log" 2>&1 9>&- &
  echo $! >"$PIDS/$name.pid"
}

fail_start() { # fail_start NAME MESSAGE: show the log tail, stop everything, exit 1
  local name="$1" msg="$2"
  echo "[cluster] ERROR: $name $msg" >&2
  echo "[cluster] ---- last 40 lines of $LOGS/$name.log ----" >&2
  tail -n 40 "$LOGS/$name.log" >&2 || true
  echo "[cluster] ----" >&2
  log "stopping what was started"
  trap - EXIT
  stop_all
  exit 1
}

up_failed() { # EXIT trap of `up` (set -e failure or interrupt): stop everything it started
  local rc=$?
  trap - EXIT
  [ "$rc" = 0 ] && return 0
  log "up failed (exit $rc); stopping what was started"
  stop_all
  exit "$rc"
}

wait_healthy() { # wait_healthy NAME CHECK-FUNCTION
  local name="$1" check="$2" deadline=$((SECONDS + TIMEOUT))
  while :; do
    child_alive "$(cat "$PIDS/$name.pid")" || fail_start "$name" "exited during startup"
    if "$check" >/dev/null 2>&1; then return 0; fi
    [ "$SECONDS" -lt "$deadline" ] || fail_start "$name" "did not become healthy within ${TIMEOUT}s"
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------
# Health checks
# ---------------------------------------------------------------------------------------------
CURL=(curl -fsS --max-time 2)
check_etcd() { "${CURL[@]}" "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
check_apiserver() {
  "${CURL[@]}" --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://$API_HOST:$API_PORT/readyz" | grep -qx ok
}
check_kcm() { "${CURL[@]}" -k "https://127.0.0.1:$KCM_PORT/healthz" | grep -qx ok; }
check_scheduler() { "${CURL[@]}" -k "https://127.0.0.1:$SCHED_PORT/healthz" | grep -qx ok; }
check_kwok() { "${CURL[@]}" "http://127.0.0.1:$KWOK_PORT/healthz" | grep -qx ok; }
check_of() {
  case "$1" in
    etcd) echo check_etcd ;; kube-apiserver) echo check_apiserver ;;
    kube-controller-manager) echo check_kcm ;; kube-scheduler) echo check_scheduler ;;
    kwok) echo check_kwok ;;
  esac
}

kctl() { "$BIN/kubectl" --kubeconfig "$ADMIN_KC" "$@"; }

# ---------------------------------------------------------------------------------------------
# PKI and kubeconfig (generated once per state dir, reused by later `up`s)
# ---------------------------------------------------------------------------------------------
make_pki() {
  [ -f "$PKI/.complete" ] && return 0
  command -v openssl >/dev/null || die "openssl is required"
  rm -rf "$PKI"; mkdir -p "$PKI"
  (
    cd "$PKI"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=licode-local-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    sign() { # sign NAME SUBJECT EXTENSIONS
      openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -subj "$2" 2>/dev/null |
        openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$1.crt" \
          -extfile <(printf '%s\n' "$3") 2>/dev/null
    }
    sign apiserver "/CN=kube-apiserver" "$(apiserver_cert_ext)"
    apiserver_sans >apiserver.sans
    sign admin "/O=system:masters/CN=licode-admin" "$(printf '%s\n' \
      'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=clientAuth')"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    touch .complete
  ) || die "PKI generation failed"
}

# The API server certificate's names; real nodes reach it at the host end of their bridge.
apiserver_sans() {
  local sans="IP:127.0.0.1,IP:${FIRST_SERVICE_IP}"
  [ "$REAL_NODES" = 1 ] && sans+=",IP:$NODE_HOST_IP"
  echo "$sans,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
}
apiserver_cert_ext() {
  printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
    'extendedKeyUsage=serverAuth' "subjectAltName=$(apiserver_sans)"
}

# A state dir made in the other mode (or before real nodes existed) re-signs only the API server cert.
ensure_apiserver_cert() {
  local had
  had="$(cat "$PKI/apiserver.sans" 2>/dev/null || REAL_NODES=0 apiserver_sans)"
  [ "$had" = "$(apiserver_sans)" ] && return 0
  log "re-signing the API server certificate for $(apiserver_sans)"
  (
    cd "$PKI"
    umask 077
    openssl req -new -key apiserver.key -subj "/CN=kube-apiserver" 2>/dev/null |
      openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out apiserver.crt.tmp \
        -extfile <(apiserver_cert_ext) 2>/dev/null && mv apiserver.crt.tmp apiserver.crt
    apiserver_sans >apiserver.sans
  ) || die "re-signing the API server certificate failed"
}

write_kubeconfig() { # write_kubeconfig FILE
  local b64="base64 -w0"
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: licode-local
  cluster:
    server: https://$API_HOST:$API_PORT
    certificate-authority-data: $($b64 <"$PKI/ca.crt")
users:
- name: licode-admin
  user:
    client-certificate-data: $($b64 <"$PKI/admin.crt")
    client-key-data: $($b64 <"$PKI/admin.key")
contexts:
- name: licode-local
  context:
    cluster: licode-local
    user: licode-admin
current-context: licode-local
EOF
  chmod 600 "$1"
}

# ---------------------------------------------------------------------------------------------
# Cluster objects: stages, storage class, nodes
# ---------------------------------------------------------------------------------------------
# Where stages/volume.yaml puts the hostPath PVs of dynamic claims: one directory per instance (its
# node prefix) under kwok's usual root. Real nodes' kubelets create them on the host; `down` removes
# this instance's, and only those.
VOLUME_ROOT=/tmp/kwok-local-path-provisioner
volume_dir() { printf '%s/%s\n' "$VOLUME_ROOT" "$NODE_PREFIX"; }

write_kwok_config() {
  local stage_dir="$BIN/../kwok-stage" f out="$STATE/kwok.yaml"
  : >"$out"
  # Upstream kwok stages, unmodified: node init + lease heartbeat, pod ready/complete/delete.
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$stage_dir/$f" ] || die "missing kwok stage $stage_dir/$f (rebuild with tools/cluster/build.sh --force)"
    { echo "---"; cat "$stage_dir/$f"; } >>"$out"
  done
  # Ours: dynamic volumes for the default class, Ingress/LoadBalancer status.
  for f in "$CLUSTER_TOOLS_DIR"/stages/*.yaml; do
    { echo "---"; sed -e "s/__LB_IP__/$LB_IP/g" -e "s|__VOLUME_DIR__|$(volume_dir)|g" "$f"; } >>"$out"
  done
}

node_yaml() { # node_yaml NAME IP LABEL...
  local name="$1" ip="$2" l; shift 2
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    beta.kubernetes.io/arch: amd64
    type: kwok
EOF
  for l in "$@"; do echo "    ${l%%=*}: \"${l#*=}\""; done
  cat <<EOF
spec: {}
status:
  addresses:
  - type: InternalIP
    address: $ip
  - type: Hostname
    address: $name
  allocatable: {cpu: "8", memory: 32Gi, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "8", memory: 32Gi, pods: "110", ephemeral-storage: 100Gi}
EOF
}

cluster_objects() {
  local n=0 i
  cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $STORAGE_CLASS
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kwok.x-k8s.io/volume
reclaimPolicy: Delete
volumeBindingMode: Immediate
allowVolumeExpansion: true
EOF
  [ "$REAL_NODES" = 1 ] && return 0   # the kubelets register the real nodes themselves
  for ((i = 0; i < SIGNALLING_NODES; i++)); do
    n=$((n + 1)); node_yaml "signalling-$i" "$NODE_IP_PREFIX$((10 + n))" licode.io/signalling=true
  done
  for ((i = 0; i < MEDIA_NODES; i++)); do
    n=$((n + 1)); node_yaml "media-$i" "$NODE_IP_PREFIX$((10 + n))" licode.io/media=true licode.io/media-pool=default
  done
  for ((i = 0; i < GENERAL_NODES; i++)); do
    n=$((n + 1)); node_yaml "general-$i" "$NODE_IP_PREFIX$((10 + n))" licode.io/turn=true
  done
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
running_components() {
  local c n=0
  for c in "${COMPONENTS[@]}"; do component_pid "$c" >/dev/null && n=$((n + 1)); done
  echo "$n"
}

cmd_up() {
  local c t0=$SECONDS
  local nrun; nrun="$(running_components)"
  if [ "$nrun" = "${#COMPONENTS[@]}" ] && [ -f "$BIN/kubectl" ] && check_apiserver 2>/dev/null &&
    { [ "$REAL_NODES" = 0 ] || node_status >/dev/null; }; then
    log "already up"
    echo "$KUBECONFIG_OUT"
    return 0
  fi
  if [ "$nrun" != 0 ]; then
    log "cluster is partly running ($nrun/${#COMPONENTS[@]} components); restarting it"
  fi
  stop_all
  node_settings   # the prefix of a previous instance is gone with it: derive it afresh

  for c in "$SIGNALLING_NODES" "$MEDIA_NODES" "$GENERAL_NODES"; do
    [[ "$c" =~ ^[0-9]+$ ]] || die "node counts must be non-negative integers"
  done
  if [ -z "${LICODE_CLUSTER_BIN:-}" ]; then
    "$CLUSTER_TOOLS_DIR/build.sh" >/dev/null 9>&-
  fi
  for c in "${CLUSTER_BINARIES[@]}"; do [ -x "$BIN/$c" ] || die "missing binary $BIN/$c"; done
  if [ "$REAL_NODES" = 1 ]; then
    node_preflight
    node_build
  fi

  local p var
  for var in ETCD_PORT ETCD_PEER_PORT API_PORT KCM_PORT SCHED_PORT KWOK_PORT; do
    p="${!var}"
    if port_busy "$p"; then
      die "port 127.0.0.1:$p is already in use (set LICODE_CLUSTER_${var/SCHED_/SCHEDULER_} to another port)"
    fi
  done

  mkdir -p "$STATE" "$PIDS" "$LOGS"
  # Everything in the state dir is runtime state: keep git away from it even without a root .gitignore.
  [ -f "$STATE/.gitignore" ] || echo '*' >"$STATE/.gitignore"
  make_pki
  ensure_apiserver_cert
  if [ "$REAL_NODES" = 1 ]; then node_make_pki; fi
  write_kubeconfig "$ADMIN_KC"
  write_kwok_config
  if [ "$KEEP_DATA" != 1 ]; then rm -rf "$STATE/etcd"; fi
  mkdir -p "$STATE/etcd"

  # From here on a failure (set -e) or an interrupt stops what was started, nodes included.
  trap 'up_failed' EXIT
  trap 'exit 130' INT TERM
  if [ "$REAL_NODES" = 1 ]; then
    log "creating the node network ($NODE_BRIDGE at $NODE_HOST_IP, ${#NODE_NAMES[@]} network namespaces $NODE_PREFIX-*)"
    node_net_up
  fi

  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  start_component etcd \
    --name=licode --data-dir="$STATE/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="licode=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state=new \
    --auto-compaction-retention=1 --unsafe-no-fsync --log-level=warn
  wait_healthy etcd check_etcd

  log "starting kube-apiserver on https://$API_HOST:$API_PORT"
  local apiserver_mode_args=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --endpoint-reconciler-type=none
    --kubelet-preferred-address-types=Hostname)
  if [ "$REAL_NODES" = 1 ]; then
    # The nodes reach the API server on the host end of their bridge; the `kubernetes` Service gets that
    # address as its endpoint (the default lease reconciler); the API server reaches the kubelets at
    # their InternalIP with a client certificate of its own; kubelets may only touch their own Node.
    apiserver_mode_args=(--bind-address="$NODE_HOST_IP" --advertise-address="$NODE_HOST_IP"
      --kubelet-preferred-address-types=InternalIP
      --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key"
      --enable-admission-plugins=NodeRestriction)
  fi
  start_component kube-apiserver \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --secure-port="$API_PORT" "${apiserver_mode_args[@]}" \
    --cert-dir="$PKI" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --profiling=false
  wait_healthy kube-apiserver check_apiserver

  log "starting kube-controller-manager and kube-scheduler"
  start_component kube-controller-manager \
    --kubeconfig="$ADMIN_KC" --authentication-kubeconfig="$ADMIN_KC" --authorization-kubeconfig="$ADMIN_KC" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
    --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=false \
    --controllers='*' --profiling=false
  start_component kube-scheduler \
    --kubeconfig="$ADMIN_KC" --authentication-kubeconfig="$ADMIN_KC" --authorization-kubeconfig="$ADMIN_KC" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics --profiling=false
  log "starting kwok"
  start_component kwok \
    --kubeconfig="$ADMIN_KC" --config="$STATE/kwok.yaml" \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr="$KWOK_POD_CIDR" --node-ip="${NODE_IP_PREFIX}10" --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:$KWOK_PORT"
  wait_healthy kube-controller-manager check_kcm
  wait_healthy kube-scheduler check_scheduler
  wait_healthy kwok check_kwok

  log "creating StorageClass $STORAGE_CLASS and nodes (signalling=$SIGNALLING_NODES media=$MEDIA_NODES general=$GENERAL_NODES$([ "$REAL_NODES" = 1 ] && echo ", real"))"
  cluster_objects >"$STATE/objects.yaml"
  kctl apply -f "$STATE/objects.yaml" >"$LOGS/apply.log" 2>&1 || fail_start kube-apiserver "rejected the cluster objects: $(cat "$LOGS/apply.log")"
  local total=$((SIGNALLING_NODES + MEDIA_NODES + GENERAL_NODES)) deadline=$((SECONDS + TIMEOUT)) ready
  if [ "$REAL_NODES" = 1 ]; then
    log "starting containerd, kube-proxy and the kubelet on ${NODE_NAMES[*]}"
    node_start_all
    node_wait_ready
    log "$total real nodes Ready after $((SECONDS - t0))s; starting CoreDNS and kube-network-policies"
    node_system_objects
  fi
  while [ "$REAL_NODES" = 0 ]; do
    ready="$(kctl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c True || true)"
    [ "$ready" -ge "$total" ] && break
    [ "$SECONDS" -lt "$deadline" ] || fail_start kwok "did not make the $total nodes Ready within ${TIMEOUT}s ($ready Ready)"
    sleep 0.2
  done
  # The serviceaccount controller must be working before pods can be admitted in new namespaces.
  deadline=$((SECONDS + TIMEOUT))
  until kctl -n default get serviceaccount default >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail_start kube-controller-manager "did not create the default ServiceAccount within ${TIMEOUT}s"
    sleep 0.2
  done

  cp "$ADMIN_KC" "$KUBECONFIG_OUT.tmp" && mv "$KUBECONFIG_OUT.tmp" "$KUBECONFIG_OUT"
  trap - EXIT INT TERM
  log "up in $((SECONDS - t0))s: Kubernetes $K8S_VERSION at https://$API_HOST:$API_PORT, $total $([ "$REAL_NODES" = 1 ] && echo "real nodes" || echo nodes) Ready"
  log "export KUBECONFIG=$KUBECONFIG_OUT"
  echo "$KUBECONFIG_OUT"
}

# The directories real nodes made for this instance's dynamic volumes (kwok nodes make none), with
# the data pods wrote there; then kwok's root, if nothing else is in it. Kept with the etcd data.
remove_volumes() {
  local dir; dir="$(volume_dir)"
  [ -d "$dir" ] || return 0
  if [ -n "$(mounts_under "$dir")" ]; then
    log "not removing $dir: something is still mounted under it"
    return 0
  fi
  rm -rf "$dir"
  rmdir "$VOLUME_ROOT" 2>/dev/null || true
}

cmd_down() {
  if [ ! -d "$STATE" ]; then log "not running (no $STATE)"; return 0; fi
  local n; n="$(running_components)"
  stop_all
  rm -f "$KUBECONFIG_OUT"
  if [ "$KEEP_DATA" != 1 ]; then rm -rf "$STATE/etcd"; remove_volumes; fi
  if [ "$n" = 0 ]; then log "not running"; else log "down"; fi
}

cmd_status() {
  local c pid health ok=0 rc=0 running=0
  printf '%-24s %-8s %s\n' COMPONENT PID HEALTH
  if [ "$REAL_NODES" = 1 ] && [ -s "$NODE_PREFIX_FILE" ]; then node_status || rc=1; fi
  for c in "${COMPONENTS[@]}"; do
    if pid="$(component_pid "$c")"; then
      running=$((running + 1))
      if "$(check_of "$c")" 2>/dev/null; then health=ok; ok=$((ok + 1)); else health=unhealthy; rc=1; fi
    else
      pid=-; health=stopped; rc=1
    fi
    printf '%-24s %-8s %s\n' "$c" "$pid" "$health"
  done
  if [ "$running" = 0 ]; then echo "cluster: down"; return 1; fi
  if check_apiserver 2>/dev/null; then
    echo
    kctl version 2>/dev/null | sed -n 's/^Server Version: /server: /p'
    echo "kubeconfig: $KUBECONFIG_OUT"
    echo
    kctl get nodes -L licode.io/signalling,licode.io/media,licode.io/media-pool \
      -o wide 2>&1 | cut -c1-200 || rc=1
    local notready
    notready="$(kctl get nodes --no-headers 2>/dev/null | awk '$2 != "Ready"' | wc -l)"
    [ "$notready" = 0 ] || rc=1
  fi
  [ "$rc" = 0 ] && echo "cluster: up" || echo "cluster: degraded"
  return "$rc"
}

# First address of the service range (the `kubernetes` Service's ClusterIP), for the serving cert.
_net="${SERVICE_CIDR%/*}"
if [[ "$_net" =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.([0-9]+)$ ]]; then
  FIRST_SERVICE_IP="${BASH_REMATCH[1]}.$((BASH_REMATCH[2] + 1))"
else
  FIRST_SERVICE_IP=10.96.0.1
fi

# Where clients reach the API server: the host end of the node bridge with real nodes, else loopback.
node_settings
if [ "$REAL_NODES" = 1 ]; then API_HOST="$NODE_HOST_IP"; else API_HOST=127.0.0.1; fi

cmd_import() { # cmd_import ARCHIVE... | -: into every running real node
  local archives=() a line
  [ "$#" -gt 0 ] || die "usage: cluster.sh import ARCHIVE... (or - to read tools/images result lines from stdin)"
  for a in "$@"; do
    if [ "$a" = - ]; then
      while IFS= read -r line; do [ -n "$line" ] && archives+=("$(printf '%s' "$line" | cut -f1)"); done
    else
      archives+=("$a")
    fi
  done
  for a in "${archives[@]}"; do [ -s "$a" ] || die "no such archive: $a"; done
  [ "$REAL_NODES" = 1 ] || die "import needs real nodes (LICODE_CLUSTER_REAL_NODES=1): kwok nodes run no containers"
  node_status >/dev/null || die "the real nodes are not running (cluster.sh up first; cluster.sh status shows which part is down)"
  NODE_BIN="$(cat "$STATE/node-bin" 2>/dev/null)" || true
  [ -x "$NODE_BIN/ctr" ] || die "cannot find the node binaries (recorded in $STATE/node-bin by cluster.sh up)"
  log "importing ${#archives[@]} archive(s) into ${#NODE_NAMES[@]} nodes"
  node_import_all "${archives[@]}" || die "import failed"
  log "imported: $(for a in "${archives[@]}"; do node_archive_images "$a" | tr '\t' '@'; done | tr '\n' ' ')"
}

lock_state() { # serialise up/down on one state dir (fd 9; closed in the components)
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock 9
}

case "${1:-}" in
  up) lock_state; cmd_up ;;
  down) [ -d "$STATE" ] && lock_state; cmd_down ;;
  status) cmd_status ;;
  kubectl) shift; exec "$BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" "$@" ;;
  import) shift; cmd_import "$@" ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
