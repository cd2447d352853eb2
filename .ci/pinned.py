#!/usr/bin/env python3
"""Checks README.md's "pinned by" comments: each names tests that exist.

A README sentence that states a behaviour is followed by an HTML comment

    <!-- pinned by: tests/it/retries.rs::three_attempts_by_default_for_a_retryable_error -->

naming the test (or tests, separated by commas or new lines, each with an
optional note in parentheses) that fails when the sentence stops being true.
This script fails if a named file is missing, if no `fn NAME` is defined in
that file's code (a name found only in a comment, doc comment or string
does not count), or if a comment names no test at all; it prints how many
it checked.

Usage: python3 .ci/pinned.py [README.md ...]
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMENT = re.compile(r"<!--\s*pinned by:?(.*?)-->", re.S)
REFERENCE = re.compile(r"([\w./-]+\.rs)(?:::(\w+))?")


CHAR_LITERAL = re.compile(r"'(?:[^'\\\n]|\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.))'")
RAW_STRING = re.compile(r'b?r(#*)"')


def code_only(source: str) -> str:
    """`source` with its comments (line, block, nested, doc) and the contents
    of its string and character literals blanked out, lines kept in place."""
    out = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if source.startswith("//", i):
            j = source.find("\n", i)
            i = n if j < 0 else j
        elif source.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if source.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif source.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if source[i] == "\n":
                        out.append("\n")
                    i += 1
        elif (m := RAW_STRING.match(source, i)) and (i == 0 or not (source[i - 1].isalnum() or source[i - 1] == "_")):
            end = source.find('"' + m.group(1), m.end())
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + "\n" * source.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            out.append('""' + "\n" * source.count("\n", i, j))
            i = j + 1
        elif c == "'" and (m := CHAR_LITERAL.match(source, i)):
            out.append("' '")
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


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
            code = code_only(source.read_text(encoding="utf-8"))
            if name and not re.search(rf"\bfn\s+{re.escape(name)}\b", code):
                problems.append(f"{readme.name}:{line}: no `fn {name}` defined in {path} (outside comments)")
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
