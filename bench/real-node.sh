#!/usr/bin/env bash
# What the real nodes cost: the cold build of the node and of the images on this machine, a warm
# `npm run demo`, and the memory of the nodes while the `local` stack runs on them. Prints figures with
# their targets; asserts nothing.
#
#   bench/real-node.sh              warm demo and memory (the builds come from the cache)
#   bench/real-node.sh --cold       first the cold builds: toolchain (npm run setup), control plane,
#                                   node, each image, with an empty LICODE_CACHE and an empty Go build
#                                   cache (Go's module downloads are kept: ~/go/pkg/mod); tens of minutes
#
# Targets (issue 16): a warm `npm run demo` within 5 minutes; the cold set-up from a fresh clone within
# 35 minutes. The demo runs against the default cluster (.cluster, 10.200.0.x), which must not be
# running already (this script starts it, measures, and stops it); root only.
#
# Options:
#   --cold        also time the cold builds (see above)
#   -h, --help    this text
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

COLD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cold) COLD=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "real-node.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "real-node.sh: real nodes need root" >&2; exit 2; }
CLUSTER="$ROOT/tools/cluster/cluster.sh"
if bash "$CLUSTER" status >/dev/null 2>&1; then
  echo "real-node.sh: a cluster is running at .cluster; stop it first (npm run cluster:down)" >&2
  exit 2
fi

LOGS="$(mktemp -d /tmp/bench-real-node.XXXXXX)"
cleanup() { bash "$CLUSTER" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "bench/real-node.sh: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), logs in $LOGS"

if [ "$COLD" = 1 ]; then
  cold="$(mktemp -d /tmp/bench-real-node-cache.XXXXXX)"
  export LICODE_CACHE="$cold/licode" GOCACHE="$cold/go-build"
  mkdir -p "$LICODE_CACHE" "$GOCACHE"
  echo
  echo "cold builds (empty LICODE_CACHE and GOCACHE; module downloads kept):"
  node_images() { local i; for i in pause coredns kube-network-policies; do bash "$ROOT/tools/images/$i/build.sh"; done; }
  total=0
  for step in "toolchain (npm run setup)|bash $ROOT/tools/setup.sh" \
    "control plane (tools/cluster/build.sh)|bash $ROOT/tools/cluster/build.sh" \
    "node (tools/node/build.sh)|bash $ROOT/tools/node/build.sh" \
    "images of the node (pause, CoreDNS, kube-network-policies)|node_images" \
    "images of the local stack (Licode, RabbitMQ, MongoDB stand-in, coturn)|bash $ROOT/tools/images/local-stack.sh"; do
    name="${step%%|*}"
    # shellcheck disable=SC2086 # the command is a word list on purpose
    secs="$(bench_timed "$LOGS/cold-$(printf '%s' "${name%% *}" | tr -c 'a-z' '-').log" ${step#*|})"
    total="$(awk -v a="$total" -v b="$secs" 'BEGIN { printf "%.1f", a + b }')"
    printf '  %-70s %8s s\n' "$name" "$secs"
  done
  printf '  %-70s %8s s (target 35 min = 2100 s: %s)\n' "total" "$total" "$(bench_target "$total" 2100)"
  echo "  (load while building: $(cut -d' ' -f1-3 /proc/loadavg))"
fi

echo
echo "warm demo (npm run demo -- --keep, from no cluster: cluster up, images imported, up, a session):"
secs="$(bench_timed "$LOGS/demo.log" bash "$ROOT/tools/demo.sh" --keep)"
printf '  %-70s %8s s (target 300 s: %s)\n' "npm run demo" "$secs" "$(bench_target "$secs" 300)"
grep -E '^\[demo\] [1-5]/5|smoke: ' "$LOGS/demo.log" | sed 's/^/  /' || true

echo
echo "memory of each node with the local stack running (its cgroup: containerd, kubelet, kube-proxy, pods):"
prefix="$(cat "$ROOT/.cluster/node-prefix")"
sum=0
for dir in /sys/fs/cgroup/memory/"$prefix"-*; do
  [ -d "$dir" ] || continue
  # total_rss: anonymous memory of every process below, without the page cache a cgroup is also charged.
  rss="$(awk '$1 == "total_rss" { print $2 }' "$dir/memory.stat")"
  sum=$((sum + rss))
  printf '  %-70s %8.1f MiB\n' "${dir##*/memory/}" "$(awk -v b="$rss" 'BEGIN { print b / 1048576 }')"
done
printf '  %-70s %8.1f MiB\n' "all nodes" "$(awk -v b="$sum" 'BEGIN { print b / 1048576 }')"
printf '  %-70s %8s\n' "machine: used / total (free -m)" "$(free -m | awk '/^Mem:/ { print $3 " / " $2 " MiB" }')"
