#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fails when a test makes a Catch2 assertion on a thread it started.

Catch2 3.7 (Debian's libcatch2-dev) does not make assertions thread-safe: CHECK/REQUIRE/INFO from two threads
at once corrupt its state and abort the run ("redirect is already active"). Threads in tests count or return
what they saw; the test's own thread asserts. This scans the bodies of lambdas handed to std::thread,
std::jthread, std::async, and to emplace_back/push_back (vectors of threads) in tests/.
Usage: check_test_threads.py [root]   (exit 1 and one line per finding)
"""
import pathlib
import re
import sys

SPAWN = re.compile(r'(?:emplace_back|push_back|std::thread|std::jthread|std::async)\s*\(\s*'
                   r'(?:std::launch::\w+\s*,\s*)?\[[^\]]*\]\s*(?:\([^)]*\))?[^{;]*\{')
ASSERT = re.compile(r'\b(?:CHECK|REQUIRE|CHECK_FALSE|REQUIRE_FALSE|CHECK_THAT|REQUIRE_THAT|CHECK_NOTHROW|'
                    r'REQUIRE_NOTHROW|CHECK_THROWS\w*|REQUIRE_THROWS\w*|FAIL|FAIL_CHECK|SUCCEED|INFO|'
                    r'UNSCOPED_INFO|CAPTURE|WARN)\s*\(')


def body(text: str, open_brace: int) -> str:
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == '{':
            depth += 1
        elif text[i] == '}':
            depth -= 1
            if depth == 0:
                return text[open_brace:i]
    return text[open_brace:]


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else 'tests')
    findings = 0
    for path in sorted(p for p in root.rglob('*') if p.suffix in ('.cpp', '.hpp')):
        text = path.read_text(encoding='utf-8', errors='replace')
        for m in SPAWN.finditer(text):
            b = body(text, m.end() - 1)
            for a in ASSERT.finditer(b):
                line = text.count('\n', 0, m.end() - 1 + a.start()) + 1
                print(f'{path}:{line}: Catch2 assertion {a.group(0).rstrip("( ")} on a thread the test started '
                      '(not thread-safe in Catch2 3.7: count on the thread, assert on the test thread)')
                findings += 1
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
