"""examples/aws run as its README says, against the session's moto server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aws"


@pytest.fixture
def example(tmp_path, aws, monkeypatch):
    root = tmp_path / "aws"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".hookrunner", "__pycache__"))
    monkeypatch.setenv("DEV_S3_ENDPOINT", aws.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", aws.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", aws.url)
    # S3 must go through the slot hook: the generic endpoint leads nowhere.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("EXAMPLE_BUCKET", f"example-{uuid.uuid4().hex[:10]}")
    return root


def _py(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=root, capture_output=True, text=True, timeout=120
    )


def test_the_aws_example_runs_as_documented(example):
    assert _py(example, "local_aws.py", "setup").returncode == 0
    ok = _py(example, "-m", "hookrunner", "run", "pipeline.yaml", "--quiet")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    shown = _py(example, "local_aws.py", "show")
    assert json.loads(shown.stdout) == {"east": 230.25, "north": 120.5, "south": 80.0}

    failed = _py(
        example, "-m", "hookrunner", "run", "pipeline.yaml", "--quiet", "--params", "threshold=1000"
    )
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    alerts = _py(example, "local_aws.py", "alerts")
    assert alerts.stdout.strip() == "sales pipeline failed: no sales at or above 1000"
