#!/usr/bin/env bash
# `npm run setup`: everything the engine scripts and tests need, idempotent (seconds when warm):
#   1. build or reuse the offline Pulumi toolchain (tools/build-toolchain.sh) and install the kubernetes
#      provider into the project's PULUMI_HOME (${LICODE_CACHE:-~/.cache/licode-k8s}/pulumi-home);
#   2. record the bin dir for tools/pulumi-env.sh;
#   3. `npm ci` in the root and in policy/ when node_modules is missing or does not match package-lock.json, then
#      compile the policy pack (policy/pack.js) unless it is compiled for the current sources;
#   4. the Debian packages the tests and the local images need (rabbitmq-server, coturn, iptables, iproute2,
#      openssl, runc, mmdebstrap); as root they are installed with apt-get, otherwise setup says which. No
#      service of theirs is left running.
# Options: --force (rebuild the toolchain, reinstall both node_modules), -h/--help.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[setup] %s\n' "$*" >&2; }
t0=$(date +%s.%N)

CACHE="${LICODE_CACHE:-$HOME/.cache/licode-k8s}"
export PULUMI_HOME="$CACHE/pulumi-home"
mkdir -p "$PULUMI_HOME"

# 1. Toolchain (+ plugin install into PULUMI_HOME).
toolchain_args=()
[ "$FORCE" = 1 ] && toolchain_args+=(--force)
bin="$("$ROOT/tools/build-toolchain.sh" "${toolchain_args[@]+"${toolchain_args[@]}"}" | tail -n1)"
[ -x "$bin/pulumi" ] || { log "tools/build-toolchain.sh did not print a bin dir with pulumi (got '$bin')"; exit 1; }

# 2. The stamp tools/pulumi-env.sh reads (keyed by tools/versions.env).
key="$(sha256sum "$ROOT/tools/versions.env" | cut -c1-12)"
stamp="$CACHE/toolchain/ready-$key"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$bin" ]; then
  printf '%s\n' "$bin" >"$stamp.tmp.$$" && mv -f "$stamp.tmp.$$" "$stamp"
fi

# 3. node_modules, from the lock files, without install scripts (@pulumi/kubernetes' would try to download the
#    plugin; step 1 installed it already), as .ci/run does.
# shellcheck source=tools/pulumi-env.sh
. "$ROOT/tools/pulumi-env.sh"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
for dir in "$ROOT" "$ROOT/policy"; do
  rel="${dir#"$ROOT"}"
  rel="${rel#/}"
  if [ "$FORCE" = 0 ] && node "$ROOT/tools/lib/node-modules-fresh.js" "$dir"; then
    log "${rel:-.}/node_modules: matches package-lock.json"
  else
    log "npm ci in ${rel:-.}/"
    (cd "$dir" && npm ci --ignore-scripts --no-fund --no-audit >&2)
  fi
done
# The pack runs compiled (policy/pack.js); compile it now, so that the first preview does not (~3 s; a few
# milliseconds when the sources are unchanged). A type error here is the same one the preview would report.
log "policy pack: $(node "$ROOT/policy/pack.js")"

# 4. Debian packages the tests and the local images need: a real RabbitMQ for test/broker and test/licode (they
#    start private brokers of their own; the package's service stays off), coturn for test/turn (its service is
#    stopped where systemd runs it), iptables, iproute2 and openssl for the network tests, runc for the image tests,
#    mmdebstrap and the archive keyring for the image builds. As root they are installed with apt-get; otherwise
#    setup says which are missing.
packages=(rabbitmq-server coturn iptables iproute2 openssl runc mmdebstrap debian-archive-keyring)
missing=()
for pkg in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" = 0 ]; then
  log "Debian packages: installed (${packages[*]})"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2; }
  # The tests start coturn and RabbitMQ themselves, on their own ports: the packages' services must not hold them.
  if [ -d /run/systemd/system ]; then
    systemctl disable --now coturn rabbitmq-server >&2 2>/dev/null || true
  fi
else
  log "Debian packages missing: ${missing[*]}; the tests need them: sudo apt-get install ${missing[*]}"
fi

log "ready in $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s: pulumi $(pulumi version) ($bin), PULUMI_HOME=$PULUMI_HOME"
