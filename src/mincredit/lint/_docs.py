"""Keep the "Codes" section of docs/lint.md generated from :mod:`mincredit.lint._codes`.

``python -m mincredit.lint._docs docs/lint.md`` rewrites the section between the
two markers; tests/test_lint_docs.py fails while the file differs from it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mincredit.lint._codes import codes_markdown

BEGIN_MARK = "<!-- BEGIN GENERATED CODES -->"
END_MARK = "<!-- END GENERATED CODES -->"


def with_codes_section(document: str) -> str:
    """``document`` (the text of docs/lint.md) with its generated section replaced by the current one."""
    head, rest = document.split(BEGIN_MARK, 1)
    _, tail = rest.split(END_MARK, 1)
    return f"{head}{BEGIN_MARK}\n\n{codes_markdown()}\n{END_MARK}{tail}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mincredit.lint._docs docs/lint.md", file=sys.stderr)
        return 2
    target = Path(argv[0])
    target.write_text(with_codes_section(target.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
