# shellcheck shell=bash
# Helpers for bench/engine.sh, bench/e2e.sh and bench/tests.sh. Sourced after ROOT is set; sources nothing
# itself.
#
# The baseline ("before"): the toolchain and settings of commit BENCH_BASELINE_REV (default fb53d43, the last
# commit before the pack ran compiled, the program transpile-only and the host prewarmed) running today's
# program and pack, so that before and after are measured in the same bench run, interleaved, under the same
# machine conditions:
#   - the language host built from that commit's sources (it asks node where cmd/run is, and starts the
#     program only when Run comes, after the pack has answered);
#   - the program type-checked by ts-node on every run (PULUMI_NODEJS_TRANSPILE_ONLY=false);
#   - the pack started from its TypeScript sources (a copy of policy/ without package.json's "main", so
#     ts-node type-checks and compiles it on every start).

BENCH_BASELINE_REV="${BENCH_BASELINE_REV:-fb53d43}"
# PATH before tools/pulumi-env.sh adds a toolchain to it: each configuration adds its own.
BENCH_PATH="${BENCH_PATH:-$PATH}"

bench_now() { date +%s.%N; }
bench_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# bench_median N...: the median, two decimals.
bench_median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# bench_target VALUE LIMIT: "met" when VALUE <= LIMIT, else "NOT met".
bench_target() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "met" : "NOT met" }'; }

# bench_timed LOG CMD...: runs CMD with its output in LOG and prints its wall seconds; on failure shows the
# log's end and exits.
bench_timed() {
  local log="$1" t0 t1
  shift
  t0=$(bench_now)
  if ! "$@" >"$log" 2>&1; then
    echo "bench: '$*' failed; its output:" >&2
    tail -40 "$log" >&2
    exit 1
  fi
  t1=$(bench_now)
  bench_secs "$t0" "$t1"
}

# bench_machine: one line about where and when the figures were taken.
bench_machine() {
  printf '%s, %s cores, load average %s, node %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(node --version)"
}

# bench_empty_program DIR: the floor, an empty TypeScript Pulumi program (`pulumi new typescript` without its
# comments): Pulumi.yaml with this project's runtime options, an index.ts that only imports @pulumi/pulumi,
# this project's tsconfig.json and package.json, node_modules linked.
bench_empty_program() {
  local dir="$1"
  mkdir -p "$dir"
  sed 's/^name: .*/name: empty/' "$ROOT/Pulumi.yaml" >"$dir/Pulumi.yaml"
  printf 'import * as pulumi from "@pulumi/pulumi";\n\nexport const stack = pulumi.getStack();\n' >"$dir/index.ts"
  cp "$ROOT/tsconfig.json" "$ROOT/package.json" "$dir/"
  ln -s "$ROOT/node_modules" "$dir/node_modules"
}

# bench_baseline_prepare WORKDIR: sets BASELINE_CACHE (a LICODE_CACHE whose toolchain is the baseline's) and
# BASELINE_PACK (the pack as the baseline starts it). The baseline's tools/build-toolchain.sh runs against a
# private toolchain cache that links the shared cache's components, so the shared cache is only read; it builds
# the baseline's language host (~1 min with warm Go caches) only when that is not cached yet.
bench_baseline_prepare() {
  local work="$1" real="${LICODE_CACHE:-$HOME/.cache/licode-k8s}" key bin src d path_no_pulumi="" p
  mkdir -p "$work/baseline-src" "$work/baseline-cache/toolchain"
  git -C "$ROOT" archive "$BENCH_BASELINE_REV" tools | tar -x -C "$work/baseline-src" ||
    { echo "bench: cannot read tools/ of $BENCH_BASELINE_REV" >&2; exit 1; }
  for d in "$real"/toolchain/pulumi-*; do
    [ -d "$d" ] && ln -s "$d" "$work/baseline-cache/toolchain/$(basename "$d")"
  done
  ln -s "$real/pulumi-home" "$work/baseline-cache/pulumi-home"
  # No pulumi on PATH: build-toolchain.sh would take one found there, with the language host beside it.
  IFS=: read -ra src <<<"$BENCH_PATH"
  for p in "${src[@]}"; do
    [ -x "$p/pulumi" ] || path_no_pulumi="${path_no_pulumi:+$path_no_pulumi:}$p"
  done
  bin="$(PATH="$path_no_pulumi" LICODE_CACHE="$work/baseline-cache" \
    bash "$work/baseline-src/tools/build-toolchain.sh" --no-plugin-install 2>"$work/baseline-toolchain.log" |
    tail -n1)" || { tail -20 "$work/baseline-toolchain.log" >&2; exit 1; }
  [ -x "$bin/pulumi-language-nodejs" ] || { tail -20 "$work/baseline-toolchain.log" >&2; exit 1; }
  # tools/pulumi-env.sh finds the bin dir through the stamp keyed by tools/versions.env.
  key="$(sha256sum "$ROOT/tools/versions.env" | cut -c1-12)"
  printf '%s\n' "$bin" >"$work/baseline-cache/toolchain/ready-$key"
  BASELINE_CACHE="$work/baseline-cache"

  BASELINE_PACK="$work/baseline-pack"
  mkdir -p "$BASELINE_PACK"
  (cd "$ROOT/policy" && tar --exclude=./node_modules --exclude=./pack.js -cf - .) | (cd "$BASELINE_PACK" && tar -xf -)
  node -e 'const f = process.argv[1], p = require(f); delete p.main;
    require("fs").writeFileSync(f, JSON.stringify(p, null, 4) + "\n")' "$BASELINE_PACK/package.json"
  ln -s "$ROOT/policy/node_modules" "$BASELINE_PACK/node_modules"
}

# bench_in CONFIG CMD...: runs CMD in a subshell with the environment of CONFIG: "after" (this checkout's
# tools/pulumi-env.sh) or "before" (the same script with the baseline's toolchain and type-checking).
bench_in() {
  local config="$1"
  shift
  (
    export PATH="$BENCH_PATH"
    if [ "$config" = before ]; then
      export LICODE_CACHE="$BASELINE_CACHE" PULUMI_NODEJS_TRANSPILE_ONLY=false
    else
      # This checkout's defaults, whatever the caller's environment says.
      unset PULUMI_NODEJS_TRANSPILE_ONLY LICODE_LANGHOST_PREWARM
    fi
    # shellcheck source=tools/pulumi-env.sh
    . "$ROOT/tools/pulumi-env.sh" || exit 1
    "$@"
  )
}

# bench_pack CONFIG: the --policy-pack directory of CONFIG.
bench_pack() { if [ "$1" = before ]; then printf '%s\n' "$BASELINE_PACK"; else printf '%s\n' "$ROOT/policy"; fi; }
