"""examples/kedro run as its README says: ``kedro run`` (Kedro's CLI, in a subprocess, on a
copy of the project) with hookrunner found by Kedro's auto-discovery, then ``--env prod``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("kedro")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kedro"


def _run(root: Path, *args: str, module: str = "kedro") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKRUNNER_", "KEDRO_ENV"))}
    env.update(PYTHONPATH="src", DO_NOT_TRACK="1", KEDRO_DISABLE_TELEMETRY="true")
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_kedro_example_runs_its_manifest_inside_kedro_run(tmp_path):
    root = tmp_path / "kedro-orders"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", "08_reporting", ".hookrunner")
    )
    out = root / "data" / "08_reporting"

    r = _run(root, "run")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert json.loads((out / "report.json").read_text()) == {
        "customers": 3,
        "revenue": 547,
        "top": "cyd",
    }
    assert sorted(json.loads((out / "timings.json").read_text())) == ["clean", "report", "totals"]
    audited = [json.loads(line)["node"] for line in (out / "audit.jsonl").read_text().splitlines()]
    assert audited == ["totals", "report"]  # when: {tags: money}
    last_run = json.loads((out / "last_run.json").read_text())
    assert "settings.py hook: clean starts" in r.stdout + r.stderr  # settings.py's HOOKS ran too

    r = _run(root, "sessions", "list", "--format", "json", module="hookrunner")
    (session,) = json.loads(r.stdout)
    assert session["kind"] == "kedro" and session["status"] == "ok"
    assert session["id"] == last_run["run_params"]["run_id"]
    r = _run(
        root, "sessions", "show", session["id"], "--calls", "--format", "json", module="hookrunner"
    )
    shown = json.loads(r.stdout)
    assert [n["node"] for n in shown["nodes"]] == ["clean", "totals", "report"]
    hooks = {c["hook"] for c in shown["calls"]}
    assert {"require_rows", "audit", "notify", "timing.before_node_run"} <= hooks
    assert all(c["ok"] for c in shown["calls"])

    r = _run(root, "run", "--env", "prod")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    prod = [
        json.loads(line)["node"] for line in (out / "audit-prod.jsonl").read_text().splitlines()
    ]
    assert prod == ["clean", "totals", "report"]  # prod's audit replaced base's
    assert json.loads((out / "last_run.json").read_text()) == last_run  # notify forgotten
