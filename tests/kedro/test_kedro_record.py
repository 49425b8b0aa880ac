"""The record of a kedro run, driven as the bridge drives it, into a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("kedro")

from hookrunner.kedro.locate import Source  # noqa: E402
from hookrunner.kedro.manifests import load  # noqa: E402
from hookrunner.kedro.record import RunRecord  # noqa: E402
from hookrunner.services.sessions.store import Store  # noqa: E402

MODULES = Path(__file__).resolve().parents[1] / "modules"


class Unreadable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (Unreadable(), "<Unreadable whose message cannot be read>"),
        (ValueError("x" * 15_000_000), "x" * 2000 + "… (15,000,000 characters)"),
    ],
)
def test_a_failed_run_is_recorded_whatever_its_errors_message(
    tmp_path, monkeypatch, error, message
):
    monkeypatch.syspath_prepend(str(MODULES))
    log = tmp_path / "hooks.jsonl"
    monkeypatch.setenv("KEDRO_HOOKS_LOG", str(log))
    manifest = tmp_path / "hooks.yaml"
    manifest.write_text(
        "version: 1\nhooks:\n"
        '  - {name: errored, event: post_error, call: "kedro_manifest_hooks:errored"}\n'
    )
    runner, _ = load([Source(str(manifest), "base")])
    record = RunRecord(runner, tmp_path / "sessions.db", {"project": str(tmp_path)}, None)
    record.run_starting({"run_params": {"run_id": "run-1"}, "pipeline": None, "catalog": None})
    record.run_failed({"error": error})
    kind = type(error).__name__
    (line,) = log.read_text().splitlines()
    assert json.loads(line)["error_info"] == {"type": kind, "message": message}
    (session,) = Store(tmp_path / "sessions.db").sessions()
    assert session["status"] == "failed"
    assert session["summary"]["error"] == f"{kind}: {message}"
