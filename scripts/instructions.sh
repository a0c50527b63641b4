#!/usr/bin/env bash
# Instructions executed by each routing decision (valgrind callgrind, only the measured
# function counted): figures that do not move with the machine's load.
# Usage: scripts/instructions.sh   (needs valgrind; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }
bin=$(cargo bench -p stratus-benches --bench routing_instructions --no-run --message-format=json 2>/dev/null \
  | grep '"executable":"[^"]*routing_instructions' | sed 's/.*"executable":"\([^"]*\)".*/\1/' | tail -1)
[ -x "$bin" ] || { echo "bench binary not built" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for case in decision_10k_users_3_level_policy decision_10k_users_3_level_policy_adversarial agent_pull_20_services; do
  valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured_*' \
    --callgrind-out-file="$out/$case.out" "$bin" "$case" >/dev/null 2>&1
  ir=$(grep -E '^(summary|totals):' "$out/$case.out" | head -1 | awk '{print $2}')
  printf '%-48s %12s instructions\n' "$case" "$ir"
done
