#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compile-time cost of including our headers, against <nlohmann/json.hpp> alone, measured in one run.
# Usage: bench/include_cost.sh [compiler] [runs]   (defaults: g++-12, 5); MEETINGBAAS_SOURCE_DIR=<checkout>
# measures another checkout's headers with the same script.
# Each translation unit is `#include <...>` plus an empty main, compiled with `<compiler> -std=c++20 -O0 -c`.
# Prints, per TU, the median CPU time (user + system: steadier than wall time on a shared machine) and the
# median wall time, each with its ratio to <nlohmann/json.hpp> alone. The TUs are compiled in turn, round
# after round, so that a change in the machine's load affects them alike.
#   receiver: what a webhook receiver includes (events + auth + idempotency); budget 1.3x of json (#13)
#   webhooks_umbrella: <meetingbaas/webhooks.hpp>, every core module
set -euo pipefail
cxx=${1:-g++-12}
runs=${2:-5}
root=${MEETINGBAAS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}  # another checkout: compare versions
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A tus=(
  [empty]=''
  [nlohmann_json]='#include <nlohmann/json.hpp>'
  [webhooks_umbrella]='#include <meetingbaas/webhooks.hpp>'
  [receiver]=$'#include <meetingbaas/events.hpp>\n#include <meetingbaas/auth.hpp>\n#include <meetingbaas/idempotency.hpp>'
)
# Modules and low-level headers, one by one when they exist (all but api stay free of nlohmann).
for h in core events auth idempotency retry sync api api/http sync/job_queue; do
  [[ -f "$root/include/meetingbaas/$h.hpp" ]] && tus[${h//\//_}]="#include <meetingbaas/$h.hpp>"
done
names=(empty nlohmann_json receiver webhooks_umbrella $(printf '%s\n' "${!tus[@]}" |
       grep -vxE 'empty|nlohmann_json|receiver|webhooks_umbrella' | sort))

for name in "${names[@]}"; do
  printf '%s\nint main() { return 0; }\n' "${tus[$name]}" >"$work/$name.cpp"
  : >"$work/$name.cpu"
  : >"$work/$name.wall"
done
for ((i = 0; i < runs; ++i)); do
  for name in "${names[@]}"; do
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$cxx" -std=c++20 -O0 -I"$root/include" -c "$work/$name.cpp" \
      -o "$work/$name.o"
    read -r wall user sys <"$work/time"
    awk -v u="$user" -v s="$sys" 'BEGIN {printf "%d\n", (u + s) * 1000}' >>"$work/$name.cpu"
    awk -v w="$wall" 'BEGIN {printf "%d\n", w * 1000}' >>"$work/$name.wall"
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }
echo "compiler: $($cxx --version | head -1); runs per TU: $runs; medians of -O0 -c, in ms"
printf '%-20s %8s %8s %8s %8s  %s\n' "translation unit" "cpu" "vs json" "wall" "vs json" ""
json_cpu=$(median <"$work/nlohmann_json.cpu")
json_wall=$(median <"$work/nlohmann_json.wall")
for name in "${names[@]}"; do
  cpu=$(median <"$work/$name.cpu")
  wall=$(median <"$work/$name.wall")
  note=""
  if [[ $name != empty && $name != nlohmann_json && $name != webhooks_umbrella && $name != api ]] &&
     "$cxx" -std=c++20 -I"$root/include" -E "$work/$name.cpp" | grep -q 'namespace nlohmann'; then
    note="(includes nlohmann!)"
  fi
  printf '%-20s %8s %8s %8s %8s  %s\n' "$name" "$cpu" "$(awk -v a="$cpu" -v b="$json_cpu" 'BEGIN {printf "%.2fx", a / b}')" \
    "$wall" "$(awk -v a="$wall" -v b="$json_wall" 'BEGIN {printf "%.2fx", a / b}')" "$note"
done
