#!/usr/bin/env bash
# Measures what one steady-state metrics computation reads for a 30-day window at several
# traffic levels, against the local emulator. Not part of the test suite: it takes minutes.
#
#   scripts/bench/compute_read_cost.sh [PREDICTIONS ...]    # default: 10000 100000
#
# Each size gets its own table. Results go to stdout; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

sizes=("$@")
if [[ ${#sizes[@]} -eq 0 ]]; then
    sizes=(10000 100000)
fi

endpoint=$(scripts/emulator.sh start)
trap 'scripts/emulator.sh stop "$endpoint"' EXIT
export AWS_ENDPOINT_URL="$endpoint"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

cargo build --quiet --example compute_read_cost -p mpt-core
for size in "${sizes[@]}"; do
    target/debug/examples/compute_read_cost "$size"
done
