#!/usr/bin/env bash
# Build (or reuse) the offline Pulumi toolchain from Go modules, and print a bin dir on the last stdout line:
#
#   PATH="$(tools/build-toolchain.sh | tail -1):$PATH"
#
# Builds, version-stamped and cached under ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/toolchain/<name>-<version>/:
#   pulumi                       github.com/pulumi/pulumi/pkg/v3/cmd/pulumi @ v$PULUMI_VERSION
#   pulumi-language-nodejs       our own host (tools/pulumi-build/cmd/pulumi-language-nodejs), see tools/README.md
#   pulumi-resource-kubernetes   github.com/pulumi/pulumi-kubernetes/provider/v4 @ $KUBERNETES_PROVIDER_MODULE_VERSION
#   pulumi-resource-random       our own provider (tools/pulumi-build/cmd/pulumi-resource-random), reports $RANDOM_VERSION
# and installs the providers into a plugin home of the project's: $PULUMI_HOME, by default
# $LICODE_CACHE/pulumi-home, never Pulumi's shared ~/.pulumi. Our random provider implements only part of the official
# plugin whose version it reports, so in a home other projects use it would stand in for the official one. A home is
# the project's when it is that default, holds .licode-k8s-plugin-home (written into each home installed into), or is
# empty or missing (and not ~/.pulumi); any other stops the script. A random plugin that the toolchain did not build
# (its Go build info names another main package) is never replaced.
# Versions come from tools/versions.env. A second run only checks the cache (seconds).
#
# Options:
#   --no-plugin-install   do not touch any plugin home
#   --force               rebuild every component (ignore the cache)
#   -h, --help            this text
# Environment:
#   LICODE_CACHE          cache root (default $HOME/.cache/licode-k8s); the toolchain lives in $LICODE_CACHE/toolchain
#   PULUMI_HOME           plugin home to install the providers into (default $LICODE_CACHE/pulumi-home)
#   LICODE_TOOLCHAIN_LOCK_TIMEOUT  seconds to wait for another build's lock (default 7200)
# All progress goes to stderr; stdout carries only the bin dir.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSIONS_FILE="$SCRIPT_DIR/versions.env"

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() { printf '[toolchain] ERROR: %s\n' "$*" >&2; exit 1; }

INSTALL_PLUGINS=1
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-plugin-install) INSTALL_PLUGINS=0 ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

[ -f "$VERSIONS_FILE" ] || die "missing $VERSIONS_FILE"
# shellcheck source=versions.env
. "$VERSIONS_FILE"
: "${PULUMI_VERSION:?PULUMI_VERSION must be set in $VERSIONS_FILE}"
: "${LANGUAGE_NODEJS_LITE_VERSION:?LANGUAGE_NODEJS_LITE_VERSION must be set in $VERSIONS_FILE}"
: "${KUBERNETES_VERSION:?KUBERNETES_VERSION must be set in $VERSIONS_FILE}"
: "${KUBERNETES_PROVIDER_MODULE_VERSION:?KUBERNETES_PROVIDER_MODULE_VERSION must be set in $VERSIONS_FILE}"
: "${KUBERNETES_SDK_MODULE_VERSION:?KUBERNETES_SDK_MODULE_VERSION must be set in $VERSIONS_FILE}"
: "${RANDOM_VERSION:?RANDOM_VERSION must be set in $VERSIONS_FILE (the version @pulumi/random requests)}"

for tool in go flock sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH"
done

CACHE_ROOT="${LICODE_CACHE:-$HOME/.cache/licode-k8s}"
CACHE="$CACHE_ROOT/toolchain"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"

# ---- Go environment: only the module proxy, never a newer toolchain download, static binaries. ----
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
# sum.golang.org has no entries for some github.com/pulumi module versions served by the proxy.
case ",${GONOSUMDB:-}," in
  *,github.com/pulumi,*) ;;
  *) export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi" ;;
esac

# ---- One build at a time per cache (tools/lib/cache-build.sh: lock, scratch dirs, publish, mod_dir). ----
# shellcheck source-path=SCRIPTDIR source=lib/cache-build.sh
. "$SCRIPT_DIR/lib/cache-build.sh"
cache_lock "${LICODE_TOOLCHAIN_LOCK_TIMEOUT:-7200}"

# component_ok DIR FILE...: the cached component exists and holds every executable.
component_ok() {
  local dir="$1" f
  shift
  [ "$FORCE" = 0 ] || return 1
  [ -d "$dir" ] || return 1
  for f in "$@"; do [ -x "$dir/$f" ] || return 1; done
}

go_build() { # go_build DIR ARGS...: run `go build` in DIR with clear failure output
  local dir="$1"
  shift
  (cd "$dir" && go build "$@") || die "go build $* failed in $dir (see the Go output above)"
}

sha12() { sha256sum | cut -c1-12; }

PULUMI_LDFLAG_PKG="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"

# ---------------------------------------------------------------------------------------------------------------
# 1. Pulumi CLI (+ the pulumi-resource-pulumi-nodejs helper script from the sdk/v3 module).
# ---------------------------------------------------------------------------------------------------------------
PULUMI_DIR=""
existing="$(command -v pulumi 2>/dev/null || true)"
if [ -n "$existing" ] && [ "$FORCE" = 0 ]; then
  existing_real="$(readlink -f "$existing")"
  case "$existing_real" in
    "$CACHE"/*) ;; # one of ours, e.g. from an earlier bin dir on PATH: use the cache logic below
    *)
      if [ "$(PULUMI_SKIP_UPDATE_CHECK=true "$existing" version 2>/dev/null || true)" = "v$PULUMI_VERSION" ]; then
        PULUMI_DIR="$(dirname "$existing_real")"
        log "using pulumi v$PULUMI_VERSION already on PATH: $existing_real"
      fi
      ;;
  esac
fi

# The CLI, our language host and our random provider are built in one scratch copy of tools/pulumi-build (same
# dependency graph).
PULUMI_SRC=""
prepare_pulumi_src() {
  [ -z "$PULUMI_SRC" ] || return 0
  local pkgmod bad
  new_tmp pulumi-src
  PULUMI_SRC="$NEW_TMP/src"
  cp -R "$SCRIPT_DIR/pulumi-build" "$PULUMI_SRC"
  chmod -R u+w "$PULUMI_SRC"
  rm -f "$PULUMI_SRC/go.sum"
  log "resolving github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION"
  pkgmod="$(mod_dir "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION")/go.mod"
  # Non-local replace directives in pkg/go.mod must be mirrored here (Go ignores a dependency's replaces).
  bad="$(awk -F'=>' '/=>/ { n = split($2, rhs, " "); if (n >= 2) print }' "$pkgmod" \
    | grep -v 'github.com/atotto/clipboard' || true)"
  [ -z "$bad" ] || die "pkg/v3@v$PULUMI_VERSION has replace directives that tools/pulumi-build/go.mod does not mirror:
$bad"
  (
    cd "$PULUMI_SRC" &&
    go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
                -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" &&
    go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" >&2
  ) || die "could not resolve the Pulumi modules at v$PULUMI_VERSION through the Go proxy"
  local got
  got="$(cd "$PULUMI_SRC" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)"
  [ "$got" = "v$PULUMI_VERSION" ] || die "dependency resolution picked sdk/v3 $got instead of v$PULUMI_VERSION"
}

if [ -z "$PULUMI_DIR" ]; then
  PULUMI_DIR="$CACHE/pulumi-$PULUMI_VERSION"
  if component_ok "$PULUMI_DIR" pulumi pulumi-resource-pulumi-nodejs; then
    log "pulumi v$PULUMI_VERSION: cached"
  else
    log "building pulumi v$PULUMI_VERSION (slow on a cold Go cache: the CLI pulls in the cloud SDKs)"
    prepare_pulumi_src
    new_tmp pulumi-out
    out="$NEW_TMP/pulumi-$PULUMI_VERSION"
    mkdir -p "$out"
    go_build "$PULUMI_SRC" -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X $PULUMI_LDFLAG_PKG=v$PULUMI_VERSION" \
      -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    got="$(PULUMI_SKIP_UPDATE_CHECK=true "$out/pulumi" version)"
    [ "$got" = "v$PULUMI_VERSION" ] || die "built pulumi reports '$got', expected v$PULUMI_VERSION"
    sdkdir="$(mod_dir "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION")"
    install -m 0755 "$sdkdir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$out/pulumi-resource-pulumi-nodejs"
    printf 'github.com/pulumi/pulumi/pkg/v3@v%s\n' "$PULUMI_VERSION" >"$out/SOURCE"
    publish "$out" "$PULUMI_DIR"
    log "pulumi v$PULUMI_VERSION: built"
  fi
fi

# ---------------------------------------------------------------------------------------------------------------
# 2. Node.js language host. An official one next to a PATH pulumi wins; otherwise our own.
# ---------------------------------------------------------------------------------------------------------------
if [ "$PULUMI_DIR" != "$CACHE/pulumi-$PULUMI_VERSION" ] && [ -x "$PULUMI_DIR/pulumi-language-nodejs" ]; then
  LANGHOST_DIR="$PULUMI_DIR"
  log "using pulumi-language-nodejs next to the PATH pulumi"
else
  lh_hash="$( { printf '%s\n' "$PULUMI_VERSION" "$LANGUAGE_NODEJS_LITE_VERSION"; \
                cat "$SCRIPT_DIR/pulumi-build/go.mod" "$SCRIPT_DIR"/pulumi-build/cmd/pulumi-language-nodejs/*.go; } | sha12)"
  LANGHOST_DIR="$CACHE/pulumi-language-nodejs-$LANGUAGE_NODEJS_LITE_VERSION-$lh_hash"
  if component_ok "$LANGHOST_DIR" pulumi-language-nodejs; then
    log "pulumi-language-nodejs $LANGUAGE_NODEJS_LITE_VERSION (ours): cached"
  else
    log "building pulumi-language-nodejs $LANGUAGE_NODEJS_LITE_VERSION (ours, against sdk/v3@v$PULUMI_VERSION)"
    prepare_pulumi_src
    new_tmp langhost-out
    out="$NEW_TMP/langhost"
    mkdir -p "$out"
    go_build "$PULUMI_SRC" -trimpath \
      -ldflags "-s -w -X main.version=$LANGUAGE_NODEJS_LITE_VERSION" \
      -o "$out/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs
    printf 'licode tools/pulumi-build/cmd/pulumi-language-nodejs %s (sdk/v3@v%s)\n' \
      "$LANGUAGE_NODEJS_LITE_VERSION" "$PULUMI_VERSION" >"$out/SOURCE"
    publish "$out" "$LANGHOST_DIR"
    log "pulumi-language-nodejs $LANGUAGE_NODEJS_LITE_VERSION (ours): built"
  fi
fi

# ---------------------------------------------------------------------------------------------------------------
# 2b. Random provider: our own (the official one is not buildable from the reachable proxy), see tools/README.md.
#     Keyed by version and by a hash of its sources (tests excluded), like the language host.
# ---------------------------------------------------------------------------------------------------------------
random_src="$SCRIPT_DIR/pulumi-build/cmd/pulumi-resource-random"
random_hash="$( { printf '%s\n' "$PULUMI_VERSION" "$RANDOM_VERSION"; cat "$SCRIPT_DIR/pulumi-build/go.mod"; \
                  find "$random_src" -maxdepth 1 -type f \( -name '*.go' ! -name '*_test.go' -o -name schema.json \) \
                    -print0 | LC_ALL=C sort -z | xargs -0 cat; } | sha12)"
RANDOM_DIR="$CACHE/pulumi-resource-random-$RANDOM_VERSION-$random_hash"
if component_ok "$RANDOM_DIR" pulumi-resource-random; then
  log "pulumi-resource-random $RANDOM_VERSION (ours): cached"
else
  log "building pulumi-resource-random $RANDOM_VERSION (ours, against sdk/v3@v$PULUMI_VERSION)"
  prepare_pulumi_src
  new_tmp random-out
  out="$NEW_TMP/random"
  mkdir -p "$out"
  go_build "$PULUMI_SRC" -trimpath \
    -ldflags "-s -w -X main.version=$RANDOM_VERSION" \
    -o "$out/pulumi-resource-random" ./cmd/pulumi-resource-random
  printf 'licode tools/pulumi-build/cmd/pulumi-resource-random %s (sdk/v3@v%s)\n' \
    "$RANDOM_VERSION" "$PULUMI_VERSION" >"$out/SOURCE"
  publish "$out" "$RANDOM_DIR"
  log "pulumi-resource-random $RANDOM_VERSION (ours): built"
fi

# ---------------------------------------------------------------------------------------------------------------
# 3. Kubernetes provider.
# ---------------------------------------------------------------------------------------------------------------
K8S_DIR="$CACHE/pulumi-resource-kubernetes-$KUBERNETES_VERSION"
if component_ok "$K8S_DIR" pulumi-resource-kubernetes; then
  log "pulumi-resource-kubernetes v$KUBERNETES_VERSION: cached"
else
  log "building pulumi-resource-kubernetes v$KUBERNETES_VERSION (provider/v4@$KUBERNETES_PROVIDER_MODULE_VERSION)"
  new_tmp k8s
  tmp="$NEW_TMP"
  src="$tmp/src"
  moddir="$(mod_dir "github.com/pulumi/pulumi-kubernetes/provider/v4@$KUBERNETES_PROVIDER_MODULE_VERSION")"
  cp -R "$moddir" "$src"
  chmod -R u+w "$src"
  (
    cd "$src" &&
    # The local `sdk/v4 => ../sdk` replace cannot work outside the repo: use the sdk/v4 module of the same release.
    go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4 \
                -require="github.com/pulumi/pulumi-kubernetes/sdk/v4@$KUBERNETES_SDK_MODULE_VERSION" &&
    # = the upstream `go generate` step: writes the git-ignored, embedded schema-embed.json (with the version).
    cd cmd/pulumi-resource-kubernetes && VERSION="$KUBERNETES_VERSION" go run generate.go
  ) >&2 || die "could not prepare the kubernetes provider sources"
  out="$tmp/out"
  mkdir -p "$out"
  go_build "$src" -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=v$KUBERNETES_VERSION" \
    -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  printf 'github.com/pulumi/pulumi-kubernetes/provider/v4@%s + sdk/v4@%s\n' \
    "$KUBERNETES_PROVIDER_MODULE_VERSION" "$KUBERNETES_SDK_MODULE_VERSION" >"$out/SOURCE"
  publish "$out" "$K8S_DIR"
  log "pulumi-resource-kubernetes v$KUBERNETES_VERSION: built"
fi

# ---------------------------------------------------------------------------------------------------------------
# 4. bin dir: one directory with everything (hard links into the cache, so `pulumi` finds its bundled
#    language host next to its resolved path).
# ---------------------------------------------------------------------------------------------------------------
bin_hash="$(printf '%s\n' "$PULUMI_DIR" "$LANGHOST_DIR" "$K8S_DIR" "$RANDOM_DIR" | sha12)"
BIN_DIR="$CACHE/bin-$bin_hash"
link_into() { # link_into DIR FILE...
  local dir="$1" f
  shift
  for f in "$@"; do
    ln "$f" "$dir/$(basename "$f")" 2>/dev/null || cp -p "$f" "$dir/$(basename "$f")"
  done
}
bin_files=(pulumi pulumi-language-nodejs pulumi-resource-kubernetes pulumi-resource-random)
if [ "$FORCE" = 1 ] || ! component_ok "$BIN_DIR" "${bin_files[@]}"; then
  new_tmp bin
  out="$NEW_TMP/bin"
  mkdir -p "$out"
  if [ "$PULUMI_DIR" = "$CACHE/pulumi-$PULUMI_VERSION" ]; then
    link_into "$out" "$PULUMI_DIR/pulumi" "$PULUMI_DIR/pulumi-resource-pulumi-nodejs"
  else
    # A system pulumi: symlink it (and its bundled helpers) rather than copy 100+ MB.
    for f in "$PULUMI_DIR"/pulumi "$PULUMI_DIR"/pulumi-resource-pulumi-nodejs "$PULUMI_DIR"/pulumi-analyzer-policy*; do
      [ -e "$f" ] && ln -s "$f" "$out/$(basename "$f")"
    done
  fi
  if [ ! -e "$out/pulumi-language-nodejs" ]; then
    if [ "$LANGHOST_DIR" = "$PULUMI_DIR" ]; then
      ln -s "$LANGHOST_DIR/pulumi-language-nodejs" "$out/pulumi-language-nodejs"
    else
      link_into "$out" "$LANGHOST_DIR/pulumi-language-nodejs"
    fi
  fi
  link_into "$out" "$K8S_DIR/pulumi-resource-kubernetes" "$RANDOM_DIR/pulumi-resource-random"
  publish "$out" "$BIN_DIR"
fi
# Keep the newest bin dir reachable under a fixed name too.
ln -sfn "$(basename "$BIN_DIR")" "$CACHE/bin.tmp.$$" && mv -T "$CACHE/bin.tmp.$$" "$CACHE/bin"

# ---------------------------------------------------------------------------------------------------------------
# 5. Plugin home: exact-version entries so the engine finds the providers without $PATH or downloads; only in a home
#    of the project's, and never over a random plugin this toolchain did not build (see the header).
# ---------------------------------------------------------------------------------------------------------------
PROJECT_PLUGIN_HOME="$CACHE_ROOT/pulumi-home"
PLUGIN_HOME="${PULUMI_HOME:-$PROJECT_PLUGIN_HOME}"
HOME_MARK=".licode-k8s-plugin-home"
# The main package of our random provider, as its Go build info names it (`go version -m`).
OUR_RANDOM_PACKAGE="$(awk '$1 == "module" { print $2; exit }' "$SCRIPT_DIR/pulumi-build/go.mod")/cmd/pulumi-resource-random"

# plugin_home_is_ours HOME: the project's default home, a home marked as the project's, or an empty or missing one
# that is not Pulumi's shared default (~/.pulumi).
plugin_home_is_ours() {
  local home="$1" real
  real="$(realpath -m "$home")"
  [ "$real" = "$(realpath -m "$PROJECT_PLUGIN_HOME")" ] && return 0
  [ -f "$home/$HOME_MARK" ] && return 0
  [ "$real" = "$(realpath -m "$HOME/.pulumi")" ] && return 1
  [ ! -e "$home" ] && return 0
  [ -d "$home" ] && [ -z "$(ls -A "$home")" ]
}

install_plugin() { # install_plugin NAME VERSION BINARY
  local name="$1" ver="$2" bin="$3" dest
  dest="$PLUGIN_HOME/plugins/resource-$name-v$ver/pulumi-resource-$name"
  if [ -x "$dest" ] && [ ! -e "$PLUGIN_HOME/plugins/resource-$name-v$ver.partial" ] && cmp -s "$dest" "$bin"; then
    log "plugin resource $name v$ver: already installed in $PLUGIN_HOME"
    return 0
  fi
  log "installing plugin resource $name v$ver into $PLUGIN_HOME"
  PULUMI_HOME="$PLUGIN_HOME" PULUMI_SKIP_UPDATE_CHECK=true "$BIN_DIR/pulumi" plugin install resource "$name" "$ver" \
    --file "$bin" --reinstall --non-interactive >&2 \
    || die "pulumi plugin install resource $name $ver --file $bin failed"
}

if [ "$INSTALL_PLUGINS" = 1 ]; then
  plugin_home_is_ours "$PLUGIN_HOME" || die "PULUMI_HOME=$PLUGIN_HOME is not this project's plugin home, so nothing \
was installed: our pulumi-resource-random reports the official plugin's version $RANDOM_VERSION but implements only \
part of it, and would stand in for it for every project using that home. To proceed: unset PULUMI_HOME (the \
project's home is $PROJECT_PLUGIN_HOME, which npm run setup and tools/pulumi-env.sh use), point it at an empty \
directory, or pass --no-plugin-install."
  random_dest="$PLUGIN_HOME/plugins/resource-random-v$RANDOM_VERSION/pulumi-resource-random"
  if [ -e "$random_dest" ]; then
    # Read without running it: the main package its Go build info names (none for a script or a non-Go binary).
    # Matched in bash: `go version -m | awk '{ ...; exit }'` under pipefail fails when awk exits before go's
    # last write.
    random_info="$(go version -m "$random_dest" 2>/dev/null || true)" random_pkg=""
    while read -r field value _; do
      if [ "$field" = path ]; then random_pkg="$value"; break; fi
    done <<<"$random_info"
    [ "$random_pkg" = "$OUR_RANDOM_PACKAGE" ] || die "$random_dest was not built by this toolchain (its Go build \
info names ${random_pkg:-no Go main package}; the official plugin's names github.com/pulumi/pulumi-random/provider/v4/\
cmd/pulumi-resource-random), so it is left as it is. To install this project's build there, remove that plugin \
first (PULUMI_HOME=$PLUGIN_HOME pulumi plugin rm resource random $RANDOM_VERSION --yes), or use another plugin home \
(unset PULUMI_HOME: $PROJECT_PLUGIN_HOME), or pass --no-plugin-install."
  fi
  mkdir -p "$PLUGIN_HOME"
  [ -f "$PLUGIN_HOME/$HOME_MARK" ] || printf '%s\n' \
    "A plugin home of licode-k8s: tools/build-toolchain.sh installs its own pulumi-resource-random here." \
    >"$PLUGIN_HOME/$HOME_MARK"
  install_plugin kubernetes "$KUBERNETES_VERSION" "$K8S_DIR/pulumi-resource-kubernetes"
  install_plugin random "$RANDOM_VERSION" "$RANDOM_DIR/pulumi-resource-random"
fi

log "ready: $BIN_DIR"
printf '%s\n' "$BIN_DIR"
