"""The same Kedro project run by ``kedro run`` (Kedro's session and SequentialRunner) and by
``hookrunner run``: unmodified hooks classes, Kedro's own and published plugins', get the
same calls with the same argument names and types, and write the same files.

The project is ``tests/modules/kedro_project``: a Kedro project whose pipeline is also
written as ``pipeline.yaml``. Each test copies it, adds its ``HOOKS`` to settings.py and the
same hooks to hooks.yaml, and runs both in subprocesses. Nothing reaches the network:
telemetry is off, or (in the telemetry test) goes to a proxy on loopback that records the
requests and refuses them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("kedro")

TEMPLATE = Path(__file__).resolve().parents[1] / "modules" / "kedro_project"


class KedroProject:
    def __init__(self, root: Path):
        self.root = root

    def settings(self, text: str) -> None:
        path = self.root / "src/kproj/settings.py"
        path.write_text(path.read_text() + text)

    def hooks(self, text: str) -> None:
        (self.root / "hooks.yaml").write_text(text)

    def env(self, record: str, **extra: str) -> dict[str, str]:
        env = dict(os.environ, RECORD_FILE=str(self.root / record), PYTHONPATH="src")
        env.update(extra)
        return env

    def kedro(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kedro", "run", *args],
            cwd=self.root,
            env=self.env("kedro.jsonl", **env),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def hookrunner(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hookrunner", "run", "pipeline.yaml", "--quiet", *args],
            cwd=self.root,
            env=self.env("hookrunner.jsonl", **env),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def records(self, name: str) -> list[dict]:
        return [json.loads(line) for line in (self.root / name).read_text().splitlines()]


@pytest.fixture
def kedro_project(tmp_path: Path) -> KedroProject:
    root = tmp_path / "kproj"
    shutil.copytree(TEMPLATE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return KedroProject(root)


def _ours_restricted(kedro_entry: dict, ours: dict) -> dict:
    """Our record with run_params cut to Kedro's keys (hookrunner adds keys of its own)."""
    out = json.loads(json.dumps(ours))
    theirs_keys = kedro_entry.get("keys")
    if "run_params" in out["types"]:
        kept = kedro_entry["types"]["run_params"]
        out["types"]["run_params"] = {
            k: v for k, v in out["types"]["run_params"].items() if k in kept
        }
    if theirs_keys is not None:
        assert out["keys"][: len(theirs_keys)] == theirs_keys  # Kedro's keys first, in order
        out["keys"] = theirs_keys
    return out


@pytest.mark.parametrize("args", [[], ["--params", "fail=true"]], ids=["success", "failure"])
def test_recording_hooks_class_sees_what_kedro_run_gives_it(kedro_project, args):
    kedro_project.settings(
        "from kproj.recorder import Recorder\n\n"
        "HOOKS = (Recorder(),)\n"
        'DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz", "kedro-boot", "kedro-telemetry")\n'
    )
    kedro_project.hooks(
        "version: 1\nhooks:\n  - {name: recorder, class: 'kproj.recorder:Recorder'}\n"
    )
    theirs = kedro_project.kedro(*args)
    ours = kedro_project.hookrunner(*args)
    expected_code = 1 if args else 0
    assert theirs.returncode == expected_code, theirs.stderr[-3000:]
    assert ours.returncode == expected_code, ours.stderr[-3000:]
    assert "Traceback" not in ours.stderr

    kedro_calls = kedro_project.records("kedro.jsonl")
    our_calls = kedro_project.records("hookrunner.jsonl")
    assert [c["event"] for c in our_calls] == [c["event"] for c in kedro_calls]
    for theirs_call, our_call in zip(kedro_calls, our_calls, strict=True):
        assert _ours_restricted(theirs_call, our_call) == theirs_call, theirs_call["event"]

    events = [c["event"] for c in kedro_calls]
    assert events[:3] == ["after_context_created", "after_catalog_created", "before_pipeline_run"]
    first = our_calls[0]
    assert first["loader"] == "OmegaConfigLoader" and first["credentials"] == {
        "api": {"token": "from-conf-local"}
    }
    if args:
        assert events[-2:] == ["on_node_error", "on_pipeline_error"]
        assert our_calls[-1]["exc_info"] == "ValueError" and our_calls[-1]["same"] is True
    else:
        assert events[-1] == "after_pipeline_run"
        assert our_calls[-1]["result"] == ["peak", "report"]


def _events(path: Path) -> list[dict]:
    """kedro-viz's events with what differs between two runs (clock, durations) left out."""
    volatile = {"timestamp", "duration", "traceback"}
    return [{k: v for k, v in e.items() if k not in volatile} for e in json.loads(path.read_text())]


@pytest.mark.parametrize("args", [[], ["--params", "fail=true"]], ids=["success", "failure"])
def test_installed_plugins_write_what_they_write_under_kedro(kedro_project, args):
    """kedro-viz's PipelineRunStatusHook and DatasetStatsHook and kedro-boot's hook, loaded
    from their entry points (Kedro's auto-discovery; here ``plugins: {kedro: true}``), with
    a project hook that checks what kedro-boot did before it."""
    kedro_project.settings("from kproj.probe import Probe\n\nHOOKS = (Probe(),)\n")
    kedro_project.hooks(
        "version: 1\nplugins: {kedro: true}\nhooks:\n  - {name: probe, class: 'kproj.probe:Probe'}\n"
    )
    viz = kedro_project.root / ".viz"
    theirs = kedro_project.kedro(*args)
    assert theirs.returncode == (1 if args else 0), theirs.stderr[-3000:]
    kedro_events = _events(viz / "kedro_pipeline_events.json")
    kedro_probe = (kedro_project.root / "out/probe.json").read_text() if not args else None
    kedro_stats = (viz / "stats.json").read_text() if not args else None
    shutil.rmtree(viz)
    shutil.rmtree(kedro_project.root / "out", ignore_errors=True)

    ours = kedro_project.hookrunner(*args)
    assert ours.returncode == (1 if args else 0), ours.stderr[-3000:]
    our_events = _events(viz / "kedro_pipeline_events.json")
    assert our_events == kedro_events
    names = [e["event"] for e in our_events]
    if args:
        assert names[-2:] == ["on_node_error", "on_pipeline_error"]
        raw = json.loads((viz / "kedro_pipeline_events.json").read_text())
        assert raw[-1]["traceback"].rstrip().endswith("ValueError: doubling failed on purpose")
    else:
        assert names[0] == "before_pipeline_run" and names[-1] == "after_pipeline_run"
        assert "after_node_run" in names and any("size" in e for e in our_events)
        assert (kedro_project.root / "out/probe.json").read_text() == kedro_probe
        assert json.loads(kedro_probe) == {"resolver": True, "result": ["peak", "report"]}
        assert (viz / "stats.json").read_text() == kedro_stats


class _Proxy:
    """An HTTP proxy on loopback that records each request line and refuses it (403)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data.split(b"\r\n", 1)[0].decode())
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_kedro_telemetry_with_consent_does_what_it_does_under_kedro_and_never_leaves(
    kedro_project, tmp_path
):
    """kedro-telemetry (a Kedro dependency) with consent given: its CLI hooks get Kedro's
    ``ProjectMetadata``, it writes the project id into pyproject.toml and sends its events
    to its endpoint, which here is a refusing proxy on loopback."""
    kedro_project.settings('DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz", "kedro-boot")\n')
    kedro_project.hooks("version: 1\nplugins: {kedro: true, disable: [kedro-viz, kedro-boot]}\n")
    (kedro_project.root / ".telemetry").write_text("consent: true\n")
    pyproject = (kedro_project.root / "pyproject.toml").read_text()
    proxy = _Proxy()
    env = {
        "DO_NOT_TRACK": "",
        "KEDRO_DISABLE_TELEMETRY": "",
        "CI": "",
        "HTTPS_PROXY": proxy.url,
        "HTTP_PROXY": proxy.url,
        "NO_PROXY": "",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path / "home"),
    }
    try:
        theirs = kedro_project.kedro(**env)
        assert theirs.returncode == 0, theirs.stderr[-3000:]
        kedro_requests = list(proxy.requests)
        kedro_pyproject = (kedro_project.root / "pyproject.toml").read_text()
        (kedro_project.root / "pyproject.toml").write_text(pyproject)
        proxy.requests.clear()
        ours = kedro_project.hookrunner(**env)
        assert ours.returncode == 0, ours.stderr[-3000:]
        our_requests = list(proxy.requests)
    finally:
        proxy.close()
    assert kedro_requests and all("heapanalytics.com:443" in r for r in kedro_requests)
    assert our_requests == kedro_requests
    assert "warning:" not in ours.stderr  # no hook failed
    ours_pyproject = (kedro_project.root / "pyproject.toml").read_text()
    assert "project_id" in kedro_pyproject
    assert ours_pyproject.split("project_id")[0] == kedro_pyproject.split("project_id")[0]


def test_cli_hooks_get_kedros_project_metadata_and_failures_show(kedro_project):
    from kedro.framework.startup import _get_project_metadata

    (kedro_project.root / "src/kproj/cli_probe.py").write_text(
        "import json, os\n"
        "from kedro.framework.startup import ProjectMetadata\n\n"
        "class CliProbe:\n"
        "    def before_command_run(self, project_metadata, command_args):\n"
        "        with open(os.environ['RECORD_FILE'], 'w') as fh:\n"
        "            json.dump({'kedro': isinstance(project_metadata, ProjectMetadata),\n"
        "                       'fields': [str(v) for v in project_metadata],\n"
        "                       'by_name': str(project_metadata['project_path']),\n"
        "                       'pipeline': project_metadata.pipeline}, fh)\n\n"
        "    def after_command_run(self, project_metadata, exit_code):\n"
        "        raise RuntimeError(f'broken plugin saw exit code {exit_code}')\n"
    )
    kedro_project.hooks("version: 1\nhooks:\n  - {name: cli, class: 'kproj.cli_probe:CliProbe'}\n")
    ours = kedro_project.hookrunner()
    assert ours.returncode == 0, ours.stderr
    assert (
        "warning: after_command_run hook 'cli.after_command_run' failed: "
        "RuntimeError: broken plugin saw exit code 0"
    ) in ours.stderr
    seen = json.loads((kedro_project.root / "hookrunner.jsonl").read_text())
    expected = _get_project_metadata(kedro_project.root.resolve())
    assert seen["kedro"] is True
    assert seen["fields"] == [str(v) for v in expected]
    assert seen["by_name"] == str(kedro_project.root.resolve())
    assert seen["pipeline"] == str((kedro_project.root / "pipeline.yaml").resolve())
