#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Chooses the in-tree corpus of one fuzz target from a libFuzzer merge control file. See docs/fuzzing.md.

    select_corpus.py <control file> <in-tree dir> <max files>

The control file is what `<target> -merge=1 -merge_control_file=<file> <empty dir> <dirs...>` leaves:
every input of <dirs...> with the features (edges) it reaches. Hand-written seeds and regression inputs
(files directly in <in-tree dir> whose name is not 40 hex digits) are always kept. The rest is a greedy
set cover that stops at <max files> in all: each step takes the input that reaches the most edges not yet
reached (the smaller one on a tie), so a cap keeps the inputs that matter most and drops the long tail of
inputs that add one edge each. Prints the chosen paths, one a line, and a summary on stderr.
"""
import heapq
import os
import re
import sys

HEX40 = re.compile(r"[0-9a-f]{40}")


def parse(control):
    with open(control, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().splitlines()
    count = int(lines[0])
    paths = lines[2:2 + count]
    sizes, features = {}, {}
    for line in lines[2 + count:]:
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "STARTED":
            sizes[int(parts[1])] = int(parts[2])
        elif len(parts) >= 2 and parts[0] == "FT":
            features[int(parts[1])] = frozenset(int(x) for x in parts[2:])
    return paths, sizes, features


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    control, in_tree, cap = sys.argv[1], os.path.realpath(sys.argv[2]), int(sys.argv[3])
    paths, sizes, features = parse(control)

    chosen, covered, seen_names = [], set(), set()
    candidates = []
    for i, path in enumerate(paths):
        name = os.path.basename(path)
        is_seed = os.path.dirname(os.path.realpath(path)) == in_tree and not HEX40.fullmatch(name)
        if is_seed:  # kept even when it crashed the merge or adds nothing
            chosen.append(path)
            covered |= features.get(i, frozenset())
        elif i in features and name not in seen_names:  # grown inputs are named by SHA-1: one copy each
            seen_names.add(name)
            candidates.append(i)
    for name in sorted(os.listdir(in_tree)):  # seeds the merge did not list (libFuzzer skips empty files)
        path = os.path.join(in_tree, name)
        if os.path.isfile(path) and not HEX40.fullmatch(name) and \
                all(os.path.realpath(p) != os.path.realpath(path) for p in chosen):
            chosen.append(path)
    seeds = len(chosen)
    total = set(covered)
    for i in candidates:
        total |= features[i]

    # Lazy greedy: a gain only shrinks as more is covered, so a popped entry whose recomputed gain still
    # beats the next one's stale gain is the best choice.
    heap = [(-len(features[i]), sizes.get(i, 0), i) for i in candidates]
    heapq.heapify(heap)
    while heap and len(chosen) < cap:
        _, size, i = heapq.heappop(heap)
        gain = len(features[i] - covered)
        if gain == 0:
            continue
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, size, i))
            continue
        chosen.append(paths[i])
        covered |= features[i]

    for path in chosen:
        print(path)
    print(f"{len(chosen)} files ({seeds} seeds) reach {len(covered)} of the {len(total)} features "
          f"that {len(paths)} inputs reach", file=sys.stderr)


if __name__ == "__main__":
    main()
