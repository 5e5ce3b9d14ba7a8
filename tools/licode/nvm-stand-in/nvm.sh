# shellcheck shell=bash
# STAND-IN for nvm's nvm.sh (github.com/nvm-sh/nvm), installed at /opt/licode/build/libdeps/nvm/nvm.sh.
# It is not nvm: it only does what Licode v10's scripts ask of nvm, for a Node.js that is already installed
# where nvm would have put it ($NVM_DIR/versions/node/v<version>, see components/images.ts LICODE.nodeBinary).
#
# Who calls it, and what it must do:
#   extras/docker/initDockerLicode.sh 53-57 and 145-146: `. $ROOT/build/libdeps/nvm/nvm.sh`, then `nvm use`
#     in /opt/licode/scripts: put the bin directory of the version named by the nearest .nvmrc (here
#     /opt/licode/.nvmrc, `12.13.0`) first on PATH, so the `node` of every tier is that version.
#   scripts/checkNvm.sh 26-33 (the install scripts): exports NVM_DIR, then sources this file.
#   Sourcing real nvm.sh also switches to the `default` alias when one exists (nvm's `nvm install` creates it
#   with the first version installed); this stand-in does the same from $NVM_DIR/alias/default.
#
# What it leaves out (untested here): installing, listing or downloading versions, every other nvm command,
# version ranges and aliases other than `default`, and nvm's shell-integration (cd hooks, completion).
# Supported: `nvm use [--silent] [<version>]`, `nvm current`, `nvm --version`.

NVM_DIR="${NVM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd -P)}"
export NVM_DIR

# The nearest .nvmrc from the working directory up to /, as nvm looks for it.
nvm_stand_in_find_nvmrc() {
  local dir="$PWD"
  while :; do
    if [ -f "$dir/.nvmrc" ]; then
      printf '%s\n' "$dir/.nvmrc"
      return 0
    fi
    [ "$dir" = "/" ] && return 1
    dir="$(dirname "$dir")"
  done
}

nvm_stand_in_use() {
  local silent=0 version="" rc bin entry new_path=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --silent) silent=1 ;;
      *) version="$1" ;;
    esac
    shift
  done
  if [ -z "$version" ]; then
    if ! rc="$(nvm_stand_in_find_nvmrc)"; then
      echo "nvm (stand-in): no version given and no .nvmrc in $PWD or above" >&2
      return 127
    fi
    read -r version <"$rc" || true
  elif [ "$version" = "default" ]; then
    if [ ! -f "$NVM_DIR/alias/default" ]; then
      echo "nvm (stand-in): no default alias in $NVM_DIR/alias/default" >&2
      return 3
    fi
    read -r version <"$NVM_DIR/alias/default" || true
  fi
  version="v${version#v}"
  bin="$NVM_DIR/versions/node/$version/bin"
  if [ ! -x "$bin/node" ]; then
    echo "nvm (stand-in): node $version is not installed under $NVM_DIR/versions/node" >&2
    return 3
  fi
  # Drop any other nvm version from PATH, as `nvm use` does, then put this one first.
  local IFS=:
  for entry in $PATH; do
    case "$entry" in
      "$NVM_DIR"/versions/node/*/bin) ;;
      *) new_path="${new_path:+$new_path:}$entry" ;;
    esac
  done
  unset IFS
  export PATH="$bin${new_path:+:$new_path}"
  export NVM_BIN="$bin"
  export NVM_INC="$NVM_DIR/versions/node/$version/include/node"
  [ "$silent" = 1 ] || echo "nvm (stand-in): now using node $version from $bin"
  return 0
}

nvm() {
  case "${1:-}" in
    use)
      shift
      nvm_stand_in_use "$@"
      ;;
    current)
      if [ -n "${NVM_BIN:-}" ]; then basename "$(dirname "$NVM_BIN")"; else echo "none"; fi
      ;;
    --version)
      echo "0.0.0-stand-in"
      ;;
    *)
      echo "nvm (stand-in): only 'nvm use [<version>]', 'nvm current' and 'nvm --version' exist here, not 'nvm ${1:-}'" >&2
      return 127
      ;;
  esac
}

if [ -f "$NVM_DIR/alias/default" ]; then
  nvm_stand_in_use --silent default || true
fi
