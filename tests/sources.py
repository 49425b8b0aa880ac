"""The source of the hook and node modules the tests write into their temporary projects.

They are real files under ``tests/modules/`` (linted like the rest); a test writes a copy
under a unique module name (``Project.module``), so every test imports a fresh module.
"""

from __future__ import annotations

from pathlib import Path

MODULES = Path(__file__).resolve().parent / "modules"


def source(name: str) -> str:
    """The text of ``tests/modules/<name>.py``."""
    return (MODULES / f"{name}.py").read_text(encoding="utf-8")
