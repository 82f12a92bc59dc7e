#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the libFuzzer targets of a `fuzz` preset build. See docs/fuzzing.md.
#
#   fuzz/run.sh <build dir> [seconds]
#       CI: every target for <seconds> (default 60), two at a time, each starting from a scratch copy of its
#       in-tree corpus fuzz/corpus/<name>/ (the minimised result of the deep runs, so CI starts where they
#       ended). Fails on any crash, leak, timeout or sanitizer report, printing the reproducer.
#
#   fuzz/run.sh --deep <build dir> <seconds> [target...]
#       A long run of each named target (default: all), one at a time: fuzz from the in-tree corpus plus a
#       persistent work corpus (<build dir>/fuzz-work/<name>/), then choose the new in-tree corpus
#       fuzz/corpus/<name>/ from both (fuzz/select_corpus.py: the seeds keep their names; of the grown
#       inputs, named by SHA-1, a greedy set cover of edges up to FUZZ_CORPUS_FILES files in all, default
#       100) and append one line to fuzz/runs.tsv. <seconds> 0 only re-chooses the corpus. On a
#       finding it stops, keeps the reproducer in <build dir>/fuzz-work/<name>/artifacts/, and records
#       nothing: fix it, add a unit test, put the reproducer in the corpus, run again.
#
# Options for every target: -dict=fuzz/dict/<dict> where fuzz/dict/<name>.dict or the JSON dictionary
# applies, -max_len from fuzz/max_len (default libFuzzer's), -timeout=10, -rss_limit_mb=2048.
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)

deep=0
if [[ ${1:-} == --deep ]]; then
  deep=1
  shift
fi
build=${1:?usage: fuzz/run.sh [--deep] <build dir> [seconds] [target...]}
build=$(cd "$build" && pwd)
seconds=${2:-60}
shift $(($# >= 2 ? 2 : $#))

mapfile -t targets < <(find "$build" -maxdepth 2 -type f -name 'meetingbaas.fuzz.*' -perm -u+x | sort)
if ((${#targets[@]} == 0)); then
  echo "fuzz/run.sh: no fuzz targets in $build" >&2
  exit 1
fi
if (($# > 0)); then  # only the named targets
  selected=()
  for name in "$@"; do
    found=
    for t in "${targets[@]}"; do [[ ${t##*/meetingbaas.fuzz.} == "$name" ]] && found=$t; done
    [[ -n $found ]] || { echo "fuzz/run.sh: no target $name in $build" >&2; exit 1; }
    selected+=("$found")
  done
  targets=("${selected[@]}")
fi

# The options of one target: its dictionary and input size cap.
target_options() {
  local name=$1 dict="" max_len=""
  if [[ -f "$root/dict/$name.dict" ]]; then
    dict="$root/dict/$name.dict"
  elif [[ $name == parse_delivery || $name == api_response || $name == json_number ]]; then
    dict="$root/dict/json.dict"
  fi
  max_len=$(awk -v n="$name" '$1 == n {print $2}' "$root/max_len" 2>/dev/null || true)
  printf '%s\n' -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
  [[ -n $dict ]] && printf '%s\n' "-dict=$dict"
  [[ -n $max_len ]] && printf '%s\n' "-max_len=$max_len"
  return 0
}

runs_of() { grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$1" | grep -Eo '[0-9]+$' | tail -1; }

if ((deep == 0)); then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  run_one() {
    local bin=$1 name
    name=${bin##*/meetingbaas.fuzz.}
    mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
    [[ -d "$root/corpus/$name" ]] && cp -r "$root/corpus/$name/." "$work/$name/corpus/"
    mapfile -t opts < <(target_options "$name")
    local start=$SECONDS
    if "$bin" -max_total_time="$seconds" "${opts[@]}" -artifact_prefix="$work/$name/artifacts/" \
         "$work/$name/corpus" >"$work/$name/log" 2>&1; then
      echo "fuzz $name: ok ($(runs_of "$work/$name/log") runs in $((SECONDS - start)) s from $(find "$root/corpus/$name" -type f 2>/dev/null | wc -l) corpus files)"
    else
      echo "fuzz $name: FAILED"
      tail -60 "$work/$name/log"
      for a in "$work/$name/artifacts"/*; do
        [[ -f $a ]] || continue
        echo "reproducer $(basename "$a") (base64): $(base64 -w0 "$a" | head -c 4000)"
      done
      return 1
    fi
  }
  export -f run_one target_options runs_of
  export work root seconds
  printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {}
  exit 0
fi

# ---- deep runs ----
max_files=${FUZZ_CORPUS_FILES:-100}
commit=$(git -C "$root/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
for bin in "${targets[@]}"; do
  name=${bin##*/meetingbaas.fuzz.}
  work="$build/fuzz-work/$name"
  mkdir -p "$work/corpus" "$work/artifacts" "$root/corpus/$name"
  mapfile -t opts < <(target_options "$name")
  runs=0
  if ((seconds > 0)); then  # -max_total_time=0 would mean "no limit"
    echo "fuzz $name: ${seconds}s from $(find "$root/corpus/$name" -type f | wc -l) in-tree + $(find "$work/corpus" -type f | wc -l) work inputs"
    status=0
    "$bin" -max_total_time="$seconds" "${opts[@]}" -artifact_prefix="$work/artifacts/" \
      "$work/corpus" "$root/corpus/$name" >"$work/log" 2>&1 || status=$?
    runs=$(runs_of "$work/log")
    if ((status != 0)); then
      echo "fuzz $name: FINDING after ${runs:-?} runs (exit $status); log: $work/log"
      grep -E '^(==|SUMMARY|Test unit written|artifact_prefix)' "$work/log" | tail -5
      exit 1
    fi
  fi
  # The edges each input of both corpora reaches (edges only: no hit-count buckets, no comparison
  # features, which would keep thousands of inputs), from a merge into an empty directory; then the new
  # in-tree corpus is chosen from them into a fresh directory that replaces the old one.
  rm -rf "$work/merged" "$work/cover" "$work/merge.ctl" && mkdir -p "$work/merged" "$work/cover"
  "$bin" -merge=1 -merge_control_file="$work/merge.ctl" -use_counters=0 -use_cmp=0 "${opts[@]}" \
    "$work/cover" "$root/corpus/$name" "$work/corpus" >"$work/merge.log" 2>&1
  mapfile -t keep < <(python3 "$root/select_corpus.py" "$work/merge.ctl" "$root/corpus/$name" "$max_files" \
    2>"$work/select.log")
  ((${#keep[@]} > 0)) || { echo "fuzz $name: nothing chosen; see $work/select.log" >&2; exit 1; }
  cp "${keep[@]}" "$work/merged/"
  rm -rf "$work/cover" "$root/corpus/$name" && mv "$work/merged" "$root/corpus/$name"
  files=$(find "$root/corpus/$name" -type f | wc -l)
  bytes=$(du -sb "$root/corpus/$name" | cut -f1)
  echo "fuzz $name: ok, ${runs:-?} runs; in-tree corpus now $files files, $bytes bytes: $(cat "$work/select.log")"
  if ((bytes > 200000)); then
    echo "fuzz $name: the in-tree corpus is over 200 KB: lower its -max_len in fuzz/max_len" >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$name" "$seconds" "${runs:-?}" "$commit" \
    "$files files $bytes bytes" >>"$root/runs.tsv"
done
