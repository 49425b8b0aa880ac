"""Values from ``${env:...}`` never leave the process, tried as an attacker would.

Each test puts a marker secret in the environment (with a backslash, both quotes, a newline
and URL-special characters, so every escaping differs from the raw text), runs the real CLI
in a subprocess, and greps everything the run produced: stdout and stderr of every command,
the SQLite store dumped row by row (and its raw bytes), and every log record. The marker's
head and tail survive every escaping (repr, JSON, URL encoding), so finding neither means no
form of the secret got out.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest
from secret_kit import Marker, dump_stores
from sources import source

SECRET_HOOKS = source("secret_hooks")


@pytest.fixture
def marker(monkeypatch, tmp_path) -> Marker:
    m = Marker.new()
    m.log = tmp_path / "records.log"
    monkeypatch.setenv("HR_SECRET", m.value)
    monkeypatch.setenv("HR_TEST_LOG", str(m.log))
    return m


def produced(project, marker: Marker, *results) -> str:
    """Everything the commands produced: their output, the stores (row by row and as bytes)
    and the log records."""
    parts = [f"{r.args}\n{r.stdout}\n{r.stderr}" for r in results]
    parts += dump_stores(project.root)
    if marker.log is not None and marker.log.exists():
        parts.append(marker.log.read_text(encoding="utf-8"))
    return "\n".join(parts)


def _sessions(cli, store: Path) -> list[dict]:
    listed = cli("sessions", "list", "--store", str(store), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def _session_views(cli, store: Path) -> list:
    """What a user reads of the store: the list and each session, as text and as JSON."""
    out = [cli("sessions", "list", "--store", str(store))]
    out.append(cli("sessions", "list", "--store", str(store), "--format", "json"))
    for s in _sessions(cli, store):
        out.append(cli("sessions", "show", s["id"], "--store", str(store)))
        out.append(cli("sessions", "show", s["id"], "--store", str(store), "--traceback"))
        out.append(cli("sessions", "show", s["id"], "--store", str(store), "--format", "json"))
    return out


def test_dataset_paths_and_s3_uris_from_env_stay_out_of_errors_and_the_store(
    project, cli, marker, aws
):
    mod = project.module(SECRET_HOOKS, "sec")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        catalog:
          local_in: {{type: json, path: "data/${{env:HR_SECRET}}/in.json"}}
          s3_in: {{type: json, path: "s3://hr-missing-bucket/${{env:HR_SECRET}}/in.json"}}
        nodes:
          - {{name: local, func: "{mod}:keep", inputs: local_in, outputs: x}}
          - {{name: remote, func: "{mod}:keep", inputs: s3_in, outputs: y}}
        """,
    )
    local = cli("run", "pipeline.yaml", "--nodes", "local", cwd=project.root)
    remote = cli("run", "pipeline.yaml", "--nodes", "remote", cwd=project.root)
    assert local.returncode == remote.returncode == 1, local.stderr + remote.stderr
    # The literal parts stay readable; only the environment's part is masked.
    assert "data/<from env>/in.json does not exist" in local.stderr
    assert "s3://hr-missing-bucket/<from env>/in.json" in remote.stderr
    store = project.root / ".hookrunner" / "sessions.db"
    summaries = [s["summary"]["error"] for s in _sessions(cli, store)]
    assert len(summaries) == 2 and all("<from env>" in e for e in summaries)
    others = [
        cli("validate", "pipeline.yaml", cwd=project.root),
        cli("list", "--pipeline", "pipeline.yaml", cwd=project.root),
    ]
    marker.assert_absent(
        produced(project, marker, local, remote, *others, *_session_views(cli, store))
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_queue_url_from_env_stays_out_of_the_warning_and_the_store(
    project, cli, marker, monkeypatch
):
    monkeypatch.delenv("HR_TEST_LOG")  # the warning goes to stderr (logging's last resort)
    port = _closed_port()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(name, value)
    mod = project.module(SECRET_HOOKS, "sec")
    project.write("data/in.json", "1\n")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: notify
            event: after_node_run
            call: hookrunner.builtin.aws:sqs_send
            with:
              queue_url: "http://127.0.0.1:{port}/123456789012/${{env:HR_SECRET}}"
              max_attempts: 1
              backoff: 0
        """,
    )
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        catalog:
          raw: {{type: json, path: data/in.json}}
        nodes:
          - {{name: n, func: "{mod}:keep", inputs: raw, outputs: out}}
        """,
    )
    run = cli("run", "pipeline.yaml", cwd=project.root)
    assert run.returncode == 0, run.stderr
    assert "given up" in run.stderr and "<from env>" in run.stderr
    store = project.root / ".hookrunner" / "sessions.db"
    conn = sqlite3.connect(store)
    errors = [e for (e,) in conn.execute("SELECT error FROM hook_calls WHERE ok = 0")]
    conn.close()
    assert any(
        e.startswith(f"sqs to http://127.0.0.1:{port}/123456789012/<from env>") for e in errors
    )
    marker.assert_absent(produced(project, marker, run, *_session_views(cli, store)))


def test_exception_texts_of_hooks_quoting_a_with_value_are_scrubbed_everywhere(
    project, cli, marker
):
    """int(token) → "invalid literal ... '<the secret, escaped>'": in text, in JSON, in the
    warning that disables the hook and in the traceback of a failing error handler."""
    mod = project.module(SECRET_HOOKS, "sec")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: parse
            event: post_file_edit
            call: {mod}:to_int
            with: {{token: "${{env:HR_SECRET}}"}}
            on_error: disable
            error_handler: {mod}:failing_handler
        """,
    )
    data = ["--data", '{"file_path": "a.py"}']
    text = cli("emit", "post_file_edit", *data, cwd=project.root)
    as_json = cli("emit", "post_file_edit", *data, "--format", "json", cwd=project.root)
    assert text.returncode == as_json.returncode == 1
    [result] = json.loads(as_json.stdout)["results"]
    assert result["error"] == "ValueError: invalid literal for int() with base 10: '<from env>'"
    assert "'<from env>'" in text.stdout + text.stderr
    assert marker.log is not None
    records = marker.log.read_text(encoding="utf-8")
    assert "disabled after failing" in records and "Traceback" in records
    marker.assert_absent(produced(project, marker, text, as_json))


def test_exception_texts_of_nodes_quoting_a_param_are_scrubbed_in_output_and_store(
    project, cli, marker
):
    mod = project.module(SECRET_HOOKS, "sec")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{token: "${{env:HR_SECRET}}"}}
        nodes:
          - {{name: parse, func: "{mod}:node_to_int", inputs: "params:token", outputs: n}}
        """,
    )
    run = cli("run", "pipeline.yaml", cwd=project.root)
    quiet = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    full = cli("run", "pipeline.yaml", "--traceback", cwd=project.root)  # every frame
    assert run.returncode == quiet.returncode == full.returncode == 1
    # The failure names the node and its line; the traceback quotes the text, masked too.
    assert (
        "node 'parse' (pipeline.yaml:4) failed: ValueError: invalid literal for int() with "
        "base 10: '<from env>'" in run.stderr
    )
    assert run.stderr.count("'<from env>'") >= 2, run.stderr
    store = project.root / ".hookrunner" / "sessions.db"
    marker.assert_absent(produced(project, marker, run, quiet, full, *_session_views(cli, store)))


def test_partly_interpolated_strings_mask_only_the_environment_part(
    project, cli, marker, monkeypatch
):
    # A dotted path must be an identifier: the marker's head is one.
    monkeypatch.setenv("HR_ATTR", f"attr_{marker.head}")
    real = project.module("def f(file_path):\n    pass\n", "shook")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: a
            event: post_file_edit
            call: "{real}:${{env:HR_ATTR}}"
        """,
    )
    checked = cli("validate", "hooks.yaml", cwd=project.root)
    assert checked.returncode == 2
    assert f"call: module '{real}' has no attribute '<from env>'" in checked.stderr
    loaded = cli("list", cwd=project.root)
    assert (
        loaded.returncode == 2 and f"module '{real}' has no attribute '<from env>'" in loaded.stderr
    )
    project.write(
        "hooks.yaml",
        """
        version: 1
        hooks:
          - name: notify
            event: post_file_edit
            command: [echo, "--token=${env:HR_SECRET}", "{file_path}"]
        """,
    )
    listed = cli("list", "--format", "json", cwd=project.root)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["target"] == "echo --token=<from env> {file_path}"
    marker.assert_absent(produced(project, marker, checked, loaded, listed))


def test_short_values_are_settings_not_secrets(project, cli, monkeypatch):
    """The rule: values under 6 characters are not masked in free text (only where a value is
    shown as written: `hookrunner list`)."""
    monkeypatch.setenv("HR_LEVEL", "dbg")
    project.write(
        "hooks.yaml",
        """
        version: 1
        hooks:
          - name: notify
            event: "${env:HR_LEVEL}"
            command: [echo, "--level=${env:HR_LEVEL}"]
        """,
    )
    checked = cli("validate", "hooks.yaml", cwd=project.root)
    assert checked.returncode == 2 and "unknown event 'dbg'" in checked.stderr
    project.write(
        "hooks.yaml",
        """
        version: 1
        hooks:
          - name: notify
            event: post_file_edit
            command: [echo, "--level=${env:HR_LEVEL}"]
        """,
    )
    listed = cli("list", "--format", "json", cwd=project.root)
    assert json.loads(listed.stdout)[0]["target"] == "echo --level=<from env>"
    ran = cli("emit", "post_file_edit", "--format", "json", cwd=project.root)
    assert ran.returncode == 0, ran.stderr
