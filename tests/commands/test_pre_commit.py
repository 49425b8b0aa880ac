"""``.pre-commit-hooks.yaml`` works with the real pre-commit, from a local clone, offline.

pre-commit builds the hook's own environment from the clone (``language: python``); the
packages it needs come from this test environment (no index is reached: ``PIP_NO_INDEX``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml")
FOLDERS = ("hookrunner", "schemas", "configs")


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _clone(target: Path) -> Path:
    """A git repository holding this checkout's sources, as a user's clone of it would."""
    target.mkdir()
    for name in SOURCES:
        shutil.copy2(REPO / name, target / name)
    for name in FOLDERS:
        shutil.copytree(
            REPO / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    _git("init", "-q", cwd=target)
    _git("add", "-A", cwd=target)
    _git("commit", "-qm", "hookrunner", cwd=target)
    return target


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_pre_commit_try_repo_runs_hookrunner_validate(tmp_path):
    repo = _clone(tmp_path / "hookrunner")
    project = tmp_path / "project"
    project.mkdir()
    (project / "hooks.yaml").write_text("version: 1\nhooks: []\n")
    (project / "pipeline.yaml").write_text("version: 1\nhooks: 3\n")
    (project / "notes.yaml").write_text("- not a manifest\n")  # outside the hook's `files:`
    _git("init", "-q", cwd=project)
    _git("add", "-A", cwd=project)
    env = dict(
        os.environ,
        PRE_COMMIT_HOME=str(tmp_path / "cache"),
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip's spelling of --no-build-isolation
        PYTHONPATH=sysconfig.get_paths()["purelib"],
    )
    pre_commit = str(Path(sys.executable).parent / "pre-commit")

    def try_repo() -> subprocess.CompletedProcess:
        return subprocess.run(
            [pre_commit, "try-repo", str(repo), "hookrunner-validate", "--all-files"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    r = try_repo()
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "hookrunner validate" in out and "Failed" in out
    assert "pipeline.yaml:2:8: hooks: expected a list, got an integer" in out
    assert "hooks.yaml: ok (hooks, 0 hooks)" in out
    assert "notes.yaml" not in out.split("hook id: hookrunner-validate")[1]
    (project / "pipeline.yaml").write_text("version: 1\nhooks: []\n")
    _git("add", "-A", cwd=project)
    r = try_repo()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Passed" in r.stdout
