"""Documentation derived from the event catalogue (the README's event section)."""

from __future__ import annotations

import re
from pathlib import Path

from .events import CATALOGUE

START, END = "<!-- events:start -->", "<!-- events:end -->"


def events_markdown() -> str:
    lines = ["| event | group | style | default on_error | arguments |", "|---|---|---|---|---|"]
    for e in CATALOGUE:
        args = ", ".join(f"`{a}`" for a in e.args)
        if e.optional:
            opt = ", ".join(f"`{a}`" for a in e.optional)
            args = f"{args}; optional {opt}" if args else f"optional {opt}"
        style = e.style + (" (parallel)" if e.parallel else "")
        lines.append(f"| `{e.name}` | {e.group} | {style} | {e.on_error} | {args} |")
    return "\n".join(lines)


def render_readme(text: str) -> str:
    """``text`` with the events section regenerated."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{START}\n{events_markdown()}\n{END}", text)


if __name__ == "__main__":  # python -m hookrunner.docs README.md
    import sys

    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(render_readme(path.read_text()))
