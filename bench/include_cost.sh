#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compile-time cost of including our headers, against <nlohmann/json.hpp> alone, measured in one run.
# Usage: bench/include_cost.sh [compiler] [runs]   (defaults: g++-12, 5)
# Prints the median wall time of `<compiler> -std=c++20 -O0 -c` per translation unit and the ratios.
set -euo pipefail
cxx=${1:-g++-12}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A tus=(
  [empty]=''
  [nlohmann_json]='#include <nlohmann/json.hpp>'
  [webhooks_umbrella]='#include <meetingbaas/webhooks.hpp>'
)
# Modules and low-level headers that must stay free of nlohmann: measured one by one when they exist.
for h in core auth retry idempotency api/http sync/job_queue; do
  [[ -f "$root/include/meetingbaas/$h.hpp" ]] && tus[${h//\//_}]="#include <meetingbaas/$h.hpp>"
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A result
for name in "${!tus[@]}"; do
  printf '%s\nint main() { return 0; }\n' "${tus[$name]}" >"$work/$name.cpp"
  for ((i = 0; i < runs; ++i)); do
    start=$(date +%s%N)
    "$cxx" -std=c++20 -O0 -I"$root/include" -c "$work/$name.cpp" -o "$work/$name.o"
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
  done | median >"$work/$name.ms"
  result[$name]=$(cat "$work/$name.ms")
  if [[ $name != empty && $name != nlohmann_json && $name != webhooks_umbrella ]] &&
     "$cxx" -std=c++20 -I"$root/include" -E "$work/$name.cpp" | grep -q 'namespace nlohmann'; then
    result[$name]="${result[$name]} (includes nlohmann!)"
  fi
done

echo "compiler: $($cxx --version | head -1); runs per TU: $runs; median ms of -O0 -c"
printf '%-22s %10s %10s\n' "translation unit" "ms" "vs json"
json=${result[nlohmann_json]}
for name in empty nlohmann_json webhooks_umbrella $(printf '%s\n' "${!tus[@]}" | grep -vxE 'empty|nlohmann_json|webhooks_umbrella' | sort); do
  ms=${result[$name]%% *}
  printf '%-22s %10s %10s %s\n' "$name" "$ms" "$(awk -v a="$ms" -v b="$json" 'BEGIN {printf "%.2fx", a / b}')" \
    "$([[ ${result[$name]} == *nlohmann* ]] && echo '(includes nlohmann!)')"
done
