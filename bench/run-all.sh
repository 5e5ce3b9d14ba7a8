#!/usr/bin/env bash
# Every benchmark in one go, each printing its own figures (and, where there is one, the target next to
# them): the toolchain (warm check; pass --cold to rebuild it from an empty cache), the engine per stack
# (previews with and without the pack, before and after), `npm test`, the control-plane start, and the
# end-to-end deployment times. Figures only; nothing is asserted. What each measures: bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain_args=()
if [ "${1:-}" = "--cold" ]; then
    toolchain_args=(--empty-cache)
fi

echo "# toolchain"
bash bench/toolchain.sh "${toolchain_args[@]}"
echo "# engine"
bash bench/engine.sh
echo "# npm test"
bash bench/tests.sh
echo "# control plane"
bash bench/cluster-start.sh
echo "# end to end"
bash bench/e2e.sh
