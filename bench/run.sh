#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the `bench` preset (GCC 12, Release) and runs every benchmark in one session, each comparing the
# library against its baseline in the same process. Results go to <out dir> (default build/bench-results):
# one JSON and one console file per benchmark, plus the include-cost table. docs/performance.md quotes them.
# Usage: bench/run.sh [out dir] [repetitions]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/bench-results}
reps=${2:-5}
mkdir -p "$out"
cmake --preset bench >/dev/null
cmake --build --preset bench
for bin in build/bench/bench/meetingbaas.bench.*; do
  name=${bin##*/meetingbaas.bench.}
  echo "== $name"
  "$bin" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
         --benchmark_out="$out/$name.json" --benchmark_out_format=json | tee "$out/$name.txt"
done
echo "== include cost"
bash bench/include_cost.sh g++-12 5 | tee "$out/include_cost.txt"
echo "results in $out"
