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


# --------------------------------------------------------------------------- AWS (moto server)


class MotoEndpoint:
    """A real moto HTTP server on a free loopback port; ``stop``/``start`` keep the port."""

    def __init__(self, port: int = 0):
        from moto.server import ThreadedMotoServer

        self._cls = ThreadedMotoServer
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.server.start()
        self.port = self.server.get_host_and_port()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.server.stop()
            self.server._server.server_close()  # release the port: refused, not hanging
            self.running = False

    def start(self) -> None:
        self.server = self._cls(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.running = True


@pytest.fixture(scope="session")
def moto_endpoint():
    endpoint = MotoEndpoint()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """Fake credentials and ``AWS_ENDPOINT_URL`` pointing at the session's moto server."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint.url)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return moto_endpoint
