#!/usr/bin/env bash
# Every benchmark in one go, each printing its own figures: the toolchain (warm check; pass
# --cold to rebuild it from an empty cache), the engine per stack, the control-plane start, and
# the end-to-end deployment times when bench/e2e.sh exists. Figures only; nothing is asserted.
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
echo "# control plane"
bash bench/cluster-start.sh
if [ -f bench/e2e.sh ]; then
    echo "# end to end"
    bash bench/e2e.sh
fi
