#!/usr/bin/env bash
# Wall time of `npm test` (target <= 8 s), and of the same suite with plain ts-node/register/transpile-only
# instead of test/register.js (before: every re-run of the program under mocks transpiled it again), taking
# turns, median of N runs each. Figures only; nothing is asserted.
#
#   bench/tests.sh [--reps N]          default: 3 repetitions
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REPS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="${2:?--reps needs a number}"; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tests.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
LOG="$(mktemp "${TMPDIR:-/tmp}/licode-tests-bench.XXXXXX")"
trap 'rm -f "$LOG"' EXIT
cd "$ROOT"

# The suite as .mocharc.json lists it, with another --require.
before=(npx mocha --no-config --require ts-node/register/transpile-only --timeout 60000
  'test/unit/**/*.spec.ts' 'test/policy/**/*.spec.ts' 'test/manifest-lint/**/*.spec.ts')
node -e 'const c = require("./.mocharc.json"); const want = ["test/unit/**/*.spec.ts", "test/policy/**/*.spec.ts",
  "test/manifest-lint/**/*.spec.ts"]; if (JSON.stringify(c.spec) !== JSON.stringify(want)) {
  console.error("bench/tests.sh: .mocharc.json lists other specs: " + JSON.stringify(c.spec)); process.exit(1); }'

after=() before_times=()
for ((i = 1; i <= REPS; i++)); do
  after+=("$(bench_timed "$LOG" npm test)")
  before_times+=("$(bench_timed "$LOG" "${before[@]}")")
done
passing="$(grep -Eo '[0-9]+ passing' "$LOG" | tail -1)"
t_after="$(bench_median "${after[@]}")"
echo "tests bench: $(bench_machine)"
printf 'npm test (%s): %ss, target <= 8 s: %s (before, plain ts-node: %ss); median of %s runs\n' \
  "$passing" "$t_after" "$(bench_target "$t_after" 8)" "$(bench_median "${before_times[@]}")" "$REPS"
