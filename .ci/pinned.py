#!/usr/bin/env python3
"""Checks README.md's "pinned by" comments: each names tests that exist.

A README sentence that states a behaviour is followed by an HTML comment

    <!-- pinned by: tests/it/retries.rs::three_attempts_by_default_for_a_retryable_error -->

naming the test (or tests, separated by commas or new lines, each with an
optional note in parentheses) that fails when the sentence stops being true.
This script fails if a named file is missing, if no `fn NAME` is in that
file, or if a comment names no test at all; it prints how many it checked.

Usage: python3 .ci/pinned.py [README.md ...]
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMENT = re.compile(r"<!--\s*pinned by:?(.*?)-->", re.S)
REFERENCE = re.compile(r"([\w./-]+\.rs)(?:::(\w+))?")


def check(readme: Path) -> tuple[int, list[str]]:
    text = readme.read_text(encoding="utf-8")
    checked = 0
    problems = []
    for match in COMMENT.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        body = re.sub(r"\([^)]*\)", "", match.group(1))  # drop the notes
        references = REFERENCE.findall(body)
        if not references:
            problems.append(f"{readme.name}:{line}: a pinned-by comment names no test")
        for path, name in references:
            source = ROOT / path
            if not source.is_file():
                problems.append(f"{readme.name}:{line}: {path} does not exist")
                continue
            if name and not re.search(rf"\bfn\s+{re.escape(name)}\b", source.read_text(encoding="utf-8")):
                problems.append(f"{readme.name}:{line}: no `fn {name}` in {path}")
                continue
            checked += 1
    return checked, problems


def main() -> int:
    readmes = [Path(a) for a in sys.argv[1:]] or [ROOT / "README.md"]
    total = 0
    problems = []
    for readme in readmes:
        checked, found = check(readme)
        total += checked
        problems += found
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"pinned-by comments: {total} references to tests, all found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
