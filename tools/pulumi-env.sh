# shellcheck shell=bash
# The environment every script (and test/engine/engine.ts) runs pulumi in. Source it; it never builds anything
# and never calls a web service:
#
#   . tools/pulumi-env.sh || exit 1
#   licode_passphrase dev || exit 1      # sets PULUMI_CONFIG_PASSPHRASE for that stack (see below)
#   ws="$(licode_workspace dev)"         # a temporary copy of the project; the tracked files stay unchanged
#
# Exports:
#   PATH                  the toolchain bin dir (pulumi, pulumi-language-nodejs, ...) first
#   PULUMI_HOME           ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/pulumi-home (plugin cache; set by `npm run setup`)
#   PULUMI_BACKEND_URL    file://<repo>/.pulumi-state unless already set (gitignored)
#   PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, PULUMI_DISABLE_REGISTRY_RESOLVE,
#   PULUMI_IGNORE_AMBIENT_PLUGINS=true
#   PULUMI_NODEJS_TRANSPILE_ONLY  true unless already set: the program runs without ts-node's type-check (tsc checks it)
#   LICODE_ROOT           the repository root
# Fails (returns 1, with the fix on stderr) when `npm run setup` has not been run for tools/versions.env.
#
# Passphrases (licode_passphrase STACK): `dev` and `local` use ${LICODE_DEV_PASSPHRASE:-licode-dev-only}, a
# documented, not secret, default; every other stack (prod) needs the operator's PULUMI_CONFIG_PASSPHRASE (or
# PULUMI_CONFIG_PASSPHRASE_FILE).

LICODE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export LICODE_ROOT

licode_env_error() { printf 'pulumi-env: %s\n' "$*" >&2; }

# licode_versions_key: identifies the toolchain that tools/versions.env asks for.
licode_versions_key() {
  sha256sum "$LICODE_ROOT/tools/versions.env" | cut -c1-12
}

# licode_toolchain_stamp: file written by tools/setup.sh holding the bin dir for these versions.
licode_toolchain_stamp() {
  printf '%s/toolchain/ready-%s\n' "${LICODE_CACHE:-$HOME/.cache/licode-k8s}" "$(licode_versions_key)"
}

licode_env_init() {
  local cache stamp bin kver
  cache="${LICODE_CACHE:-$HOME/.cache/licode-k8s}"
  stamp="$(licode_toolchain_stamp)"
  if [ ! -f "$stamp" ]; then
    licode_env_error "the Pulumi toolchain for tools/versions.env is not set up (no $stamp). Run: npm run setup"
    return 1
  fi
  bin="$(head -n1 "$stamp")"
  if [ ! -x "$bin/pulumi" ] || [ ! -x "$bin/pulumi-language-nodejs" ]; then
    licode_env_error "the toolchain bin dir $bin recorded in $stamp is incomplete. Run: npm run setup"
    return 1
  fi
  kver="$(sed -n 's/^KUBERNETES_VERSION=//p' "$LICODE_ROOT/tools/versions.env")"
  export PULUMI_HOME="$cache/pulumi-home"
  if [ ! -x "$PULUMI_HOME/plugins/resource-kubernetes-v$kver/pulumi-resource-kubernetes" ]; then
    licode_env_error "the kubernetes provider $kver is not installed in $PULUMI_HOME. Run: npm run setup"
    return 1
  fi
  case ":$PATH:" in
    *":$bin:"*) ;;
    *) export PATH="$bin:$PATH" ;;
  esac
  export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$LICODE_ROOT/.pulumi-state}"
  case "$PULUMI_BACKEND_URL" in
    file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;;
  esac
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_DISABLE_REGISTRY_RESOLVE=true
  export PULUMI_IGNORE_AMBIENT_PLUGINS=true
  export PULUMI_SKIP_CONFIRMATIONS=true
  # The program runs transpile-only: ts-node's type-check took 2-3 s of every preview and of both halves of
  # every `up`. The types are checked by `npm run typecheck` (tsc), which .ci/run and the workflow's preview
  # job run on every change. PULUMI_NODEJS_TRANSPILE_ONLY=false in the caller's environment restores it.
  export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
  # No credentials for any service: the backend is a directory.
  unset PULUMI_ACCESS_TOKEN
}

# licode_passphrase STACK: sets PULUMI_CONFIG_PASSPHRASE for STACK, or fails naming the variable to set.
licode_passphrase() {
  local stack="$1"
  case "$stack" in
    dev | local)
      unset PULUMI_CONFIG_PASSPHRASE_FILE
      export PULUMI_CONFIG_PASSPHRASE="${LICODE_DEV_PASSPHRASE:-licode-dev-only}"
      ;;
    *)
      if [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
        [ -r "$PULUMI_CONFIG_PASSPHRASE_FILE" ] || {
          licode_env_error "PULUMI_CONFIG_PASSPHRASE_FILE=$PULUMI_CONFIG_PASSPHRASE_FILE is not readable"
          return 1
        }
        unset PULUMI_CONFIG_PASSPHRASE
      elif [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
        licode_env_error "stack '$stack' needs its own passphrase: set PULUMI_CONFIG_PASSPHRASE (or" \
          "PULUMI_CONFIG_PASSPHRASE_FILE). Only the dev and local stacks have a default (licode-dev-only)."
        return 1
      fi
      ;;
  esac
}

# licode_workspace STACK [PROJECT_DIR]: prints a new temporary directory holding a copy of the project
# (Pulumi.yaml, Pulumi.STACK.yaml, index.ts, components/, tsconfig.json, package.json) with node_modules linked
# to the repository's. pulumi writes `encryptionsalt` (and `pulumi config set` values) into that copy only.
# The caller removes it (rm -rf). PROJECT_DIR defaults to the repository root; for another project dir (a test
# fixture) every file in it is copied.
licode_workspace() {
  local stack="$1" src="${2:-$LICODE_ROOT}" ws f
  if [ ! -f "$src/Pulumi.yaml" ]; then
    licode_env_error "$src has no Pulumi.yaml"
    return 1
  fi
  ws="$(mktemp -d "${TMPDIR:-/tmp}/licode-ws.XXXXXX")" || return 1
  if [ "$src" = "$LICODE_ROOT" ]; then
    if [ ! -f "$src/Pulumi.$stack.yaml" ]; then
      licode_env_error "no stack file Pulumi.$stack.yaml in $src (stacks: $(cd "$src" && ls Pulumi.*.yaml 2>/dev/null | sed 's/^Pulumi\.\(.*\)\.yaml$/\1/' | tr '\n' ' '))"
      rm -rf "$ws"
      return 1
    fi
    for f in Pulumi.yaml "Pulumi.$stack.yaml" index.ts components tsconfig.json package.json; do
      cp -R "$src/$f" "$ws/" || { rm -rf "$ws"; return 1; }
    done
  else
    (cd "$src" && tar --exclude=node_modules -cf - .) | (cd "$ws" && tar -xf -) || { rm -rf "$ws"; return 1; }
  fi
  ln -s "$LICODE_ROOT/node_modules" "$ws/node_modules"
  printf '%s\n' "$ws"
}

# licode_ensure_stack STACK: creates STACK in the current backend if it does not exist (run inside a workspace).
licode_ensure_stack() {
  local stack="$1" out
  if out="$(pulumi stack ls --json 2>&1)"; then
    # Matched in bash: `printf | grep -q` under pipefail fails when grep exits before printf's last write.
    if [[ $out == *"\"name\": \"$stack\""* ]]; then
      return 0
    fi
  fi
  pulumi stack init "$stack" --no-select --non-interactive >&2
}

licode_env_init
