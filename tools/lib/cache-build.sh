# shellcheck shell=bash
# What the scripts that build Go tools into the cache (tools/build-toolchain.sh, tools/manifest-lint/build.sh)
# share: one build at a time per cache directory, scratch directories on the cache's filesystem (removed on exit,
# and after a hard kill by the next build), atomic publication of a finished build, and module downloads through
# the proxy. Sourced; the script defines `log` and `die` and sets CACHE (an absolute, existing directory) first.

TMP_DIRS=()
NEW_TMP=""

# cache_lock TIMEOUT_SECONDS: wait for $CACHE/.lock, then remove what builds killed hard left behind (holding the
# lock, nobody else uses it) and arrange for this build's scratch directories to go on exit.
cache_lock() {
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    log "another build holds $CACHE/.lock; waiting..."
    flock -w "$1" 9 || die "timed out waiting for $CACHE/.lock"
  fi
  trap cache_cleanup EXIT
  trap 'exit 130' INT TERM
  local d
  for d in "$CACHE"/.tmp-*; do
    [ -e "$d" ] || continue
    chmod -R u+w "$d" 2>/dev/null || true
    rm -rf "$d"
  done
}

cache_cleanup() {
  local d
  for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do
    # Go's module cache (if a build used one inside the scratch dir) is read-only.
    [ -d "$d" ] && { chmod -R u+w "$d" 2>/dev/null || true; rm -rf "$d"; }
  done
}

# new_tmp NAME: sets NEW_TMP to a fresh scratch dir on the cache's filesystem (so the final rename is atomic).
new_tmp() {
  NEW_TMP="$(mktemp -d "$CACHE/.tmp-$1.XXXXXX")"
  TMP_DIRS+=("$NEW_TMP")
}

# publish TMP_OUT FINAL: move a finished build into place, replacing an older one.
publish() {
  local src="$1" dst="$2"
  if [ -e "$dst" ]; then
    chmod -R u+w "$dst" 2>/dev/null || true
    rm -rf "$dst"
  fi
  mv -T "$src" "$dst"
}

# mod_dir MODULE@VERSION: download a module through the proxy and print its directory in the module cache.
mod_dir() {
  local json dir="" line
  json="$(go mod download -json "$1" 2>&1)" || die "go mod download $1 failed:
$json"
  if [[ $json == *'"Error"'* ]]; then
    die "go mod download $1 failed:
$json"
  fi
  # The first "Dir" line, matched in bash: `printf | sed | head -n1` under pipefail fails when head
  # exits before sed's last write.
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*\"Dir\":\ \"(.*)\",?$ ]]; then dir="${BASH_REMATCH[1]}"; break; fi
  done <<<"$json"
  [ -n "$dir" ] && [ -d "$dir" ] || die "could not locate $1 in the module cache"
  printf '%s\n' "$dir"
}
