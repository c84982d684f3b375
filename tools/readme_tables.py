"""Rewrite the README's option tables from the kinds' declarations (``make readme``)."""

from __future__ import annotations

import sys
from pathlib import Path

from convanim import kinds

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    for kind in kinds.kinds():
        start, end = f"<!-- options:{kind.name} -->\n", f"\n<!-- /options:{kind.name} -->"
        if start not in text or end not in text:
            print(f"README.md has no table for {kind.name}: add {start.strip()} ... {end.strip()}")
            return 1
        head, rest = text.split(start, 1)
        text = head + start + kind.options_markdown() + end + rest.split(end, 1)[1]
    README.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
