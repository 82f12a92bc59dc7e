#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prints the header TUs `.ci/run tidy` checks: one per umbrella header (<meetingbaas/webhooks.hpp> and
each adapters/<name>.hpp), plus the TU of any public header no umbrella includes. clang-tidy reports
findings in every included header under include/meetingbaas/ (.clang-tidy's HeaderFilterRegex), so this
covers every header for a tenth of the cost of one run per header.

usage: tidy_units.py <compile_commands.json> <include dir>
"""
import json
import pathlib
import re
import sys

commands, include = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve()
tus = sorted({e["file"] for e in json.loads(commands.read_text()) if "/tests/self_contained/" in e["file"]})


def tu_name(header):  # meetingbaas/adapters/curl.hpp -> meetingbaas_adapters_curl_hpp.cpp (tests/CMakeLists.txt)
    return re.sub(r"[^A-Za-z0-9]", "_", header) + ".cpp"


by_name = {pathlib.Path(t).name: t for t in tus}
headers = sorted(str(p.relative_to(include)) for p in include.rglob("*.hpp"))
umbrellas = ["meetingbaas/webhooks.hpp"] + [h for h in headers if re.fullmatch(r"meetingbaas/adapters/[^/]+\.hpp", h)]
include_re = re.compile(r'^\s*#\s*include\s*[<"](meetingbaas/[^>"]+)[>"]', re.M)


def closure(root):
    seen, todo = set(), [root]
    while todo:
        h = todo.pop()
        if h in seen or not (include / h).is_file():
            continue
        seen.add(h)
        todo.extend(include_re.findall((include / h).read_text()))
    return seen


covered = set()
chosen = []
for u in umbrellas:
    if tu_name(u) in by_name:  # an adapter umbrella has a TU only where its adapter target exists
        chosen.append(by_name[tu_name(u)])
        covered |= closure(u)
for h in headers:
    if h not in covered and tu_name(h) in by_name:
        chosen.append(by_name[tu_name(h)])
if not chosen:
    sys.exit("tidy_units.py: no header TUs found")
print("\n".join(chosen))
