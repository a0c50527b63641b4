#!/usr/bin/env bash
# The routing property tests at CI strength: 10^5 generated cases in all (split over the
# properties), in release mode, with the time they took. Usage: scripts/properties.sh [total]
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-100000}
properties=3 # invariants_hold_first_come, _with_a_bid_window, _whatever_order_messages_arrive_in
export PROPTEST_CASES=$(( (total + properties - 1) / properties ))
cargo build --release -p stratus-routing --tests --quiet
start=$(date +%s)
cargo nextest run --release -p stratus-routing --test properties --no-fail-fast
end=$(date +%s)
echo "property cases: $(( PROPTEST_CASES * properties )) ($PROPTEST_CASES per property), $(( end - start )) s"
