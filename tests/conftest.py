"""Shared fixtures: temporary projects with manifests and hook modules, and a CLI runner."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

_counter = itertools.count()


class Project:
    """A temporary folder with helpers to write manifests and uniquely named hook modules."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def module(self, source: str, prefix: str = "hk") -> str:
        """Write a hook module with a unique name (modules are cached per process)."""
        name = f"{prefix}_{os.getpid()}_{next(_counter)}"
        self.write(f"{name}.py", source)
        return name


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def run_cli(*args: str, cwd: Path | None = None, stdin: str | None = None):
    """Run the real console entry point in a subprocess (exit codes, stderr, no traceback)."""
    return subprocess.run(
        [sys.executable, "-m", "hookrunner", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def cli():
    return run_cli
