"""``hookrunner list --kedro`` on a project it cannot set up says why in one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("kedro")

TREE = str(Path(__file__).resolve().parents[2])
PYPROJECT = """
[tool.kedro]
package_name = "broken_settings"
project_name = "broken_settings"
kedro_init_version = "1.7.0"
source_dir = "src"
"""


def _project(root: Path, settings: str) -> Path:
    (root / "src" / "broken_settings").mkdir(parents=True)
    (root / "conf" / "base").mkdir(parents=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (root / "src" / "broken_settings" / "__init__.py").write_text("")
    (root / "src" / "broken_settings" / "settings.py").write_text(settings)
    return root


def _list(cwd: Path, *code: str) -> subprocess.CompletedProcess[str]:
    run = "sys.argv[1:] = ['list', '--kedro', '.']; import hookrunner.__main__"
    return subprocess.run(
        [sys.executable, "-c", "; ".join(["import sys", *code, run])],
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=TREE, DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true"),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_settings_py_that_raises_is_named_at_its_line(tmp_path):
    line = "HOOKS = (os.sep, 1 / 0)"
    root = _project(tmp_path, f"import os\n{line}\n")
    r = _list(root)
    assert r.returncode == 2, r.stderr[-3000:]
    assert "Traceback" not in r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: src/broken_settings/settings.py:2:{line.index('1 / 0') + 1}: importing broken_settings.settings "
        "raised ZeroDivisionError: division by zero (kedro run fails the same way: fix the "
        "project's settings.py)"
    ]


def test_without_kedro_the_install_is_suggested(tmp_path):
    root = _project(tmp_path, "")
    r = _list(root, "sys.modules['kedro'] = None")  # what an environment without Kedro sees
    assert r.returncode == 2, r.stderr[-3000:]
    assert "Traceback" not in r.stdout + r.stderr
    assert r.stderr.startswith("error: --kedro needs Kedro: pip install 'hookrunner[kedro]' (")
