#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target in <build dir> for <seconds>, two at a time, each on a scratch copy of its seed
# corpus (fuzz/corpus/<name>/). Fails on any crash, leak, timeout or sanitizer report.
set -euo pipefail
build=${1:?usage: fuzz/run.sh <build dir> [seconds]}
seconds=${2:-60}
root=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t targets < <(find "$build" -maxdepth 2 -type f -name 'meetingbaas.fuzz.*' -perm -u+x | sort)
if ((${#targets[@]} == 0)); then
  echo "fuzz/run.sh: no fuzz targets in $build" >&2
  exit 1
fi
run_one() {
  local bin=$1 name
  name=${bin##*/meetingbaas.fuzz.}
  mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
  [[ -d "$root/corpus/$name" ]] && cp -r "$root/corpus/$name/." "$work/$name/corpus/"
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/$name/artifacts/" "$work/$name/corpus" >"$work/$name/log" 2>&1; then
    echo "fuzz $name: ok ($(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work/$name/log" | grep -Eo '[0-9]+$') runs)"
  else
    echo "fuzz $name: FAILED"; tail -60 "$work/$name/log"; return 1
  fi
}
export -f run_one
export work root seconds
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {}
