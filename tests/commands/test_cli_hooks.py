"""CLI hooks: before_command_run / after_command_run around every command that loads manifests,
with the real exit code: ok (0), failed (1), invalid input (2) and Ctrl-C (130)."""

from __future__ import annotations

import json

from sources import source

CLI_HOOKS = source("cli_hooks_log")


def _setup(project, extra_hooks: str = "") -> tuple[str, object]:
    mod = project.module(CLI_HOOKS)
    log = project.root / "cli.jsonl"
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        events:
          ping: {{args: []}}
        hooks:
          - {{name: b, event: before_command_run, call: "{mod}:before", with: {{log: "{log}"}}}}
          - {{name: a, event: after_command_run, call: "{mod}:after", with: {{log: "{log}"}}}}
        {extra_hooks}
        """,
    )
    return mod, log


def _log(path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_list_and_emit_fire_cli_hooks_with_the_exit_code(project, cli):
    _, log = _setup(project)
    r = cli("list", "--format", "json", cwd=project.root)
    assert r.returncode == 0, r.stderr
    r = cli("emit", "ping", cwd=project.root)
    assert r.returncode == 0, r.stderr
    name = project.root.name
    assert _log(log) == [
        ["before", ["list", "--format", "json"], name],
        ["after", ["list", "--format", "json"], 0],
        ["before", ["emit", "ping"], name],
        ["after", ["emit", "ping"], 0],
    ]


def test_a_failing_command_reports_exit_1(project, cli):
    mod, log = _setup(project, "")
    project.write(
        "more.yaml",
        f"version: 1\nhooks:\n  - {{name: x, event: ping, call: '{mod}:boom', on_error: raise}}\n",
    )
    r = cli("emit", "ping", "--hooks", "hooks.yaml", "--hooks", "more.yaml", cwd=project.root)
    assert r.returncode == 1 and "boom" in r.stderr and "Traceback" not in r.stderr
    assert [e[0] for e in _log(log)] == ["before", "after"] and _log(log)[-1][2] == 1


def test_an_invalid_manifest_reports_exit_2_from_the_valid_ones(project, cli):
    _, log = _setup(project)
    project.write("bad.yaml", "version: 1\nhooks:\n  - {name: x, event: nope, call: os:getcwd}\n")
    args = ["list", "--hooks", "hooks.yaml", "--hooks", "bad.yaml"]
    r = cli(*args, cwd=project.root)
    assert r.returncode == 2 and "unknown event 'nope'" in r.stderr
    # The command never started: no before_command_run; after_command_run has the code.
    assert _log(log) == [["after", args, 2]]


def test_an_invalid_pipeline_run_reports_exit_2(project, cli):
    mod, log = _setup(project)
    # Invalid before any hook can load (the schema): only after_command_run fires.
    project.write("pipeline.yaml", "version: 1\nnodes:\n  - {name: n, outputs: y}\n")
    r = cli("run", "pipeline.yaml", cwd=project.root)
    assert r.returncode == 2 and "missing required key 'func'" in r.stderr
    assert _log(log) == [["after", ["run", "pipeline.yaml"], 2]]
    # Invalid once the run started (the graph is checked by the config hook): both fire.
    project.write(
        "pipeline.yaml",
        f"version: 1\nnodes:\n  - {{name: n, func: '{mod}:one', inputs: [x], outputs: y}}\n",
    )
    r = cli("run", "pipeline.yaml", cwd=project.root)
    assert r.returncode == 2 and "do not fit" in r.stderr
    assert _log(log)[1:] == [
        ["before", ["run", "pipeline.yaml"], project.root.name],
        ["after", ["run", "pipeline.yaml"], 2],
    ]


def test_ctrl_c_reports_exit_130(project, cli):
    mod, log = _setup(project)
    project.write(
        "more.yaml", f"version: 1\nhooks:\n  - {{name: x, event: ping, call: '{mod}:interrupt'}}\n"
    )
    args = ["emit", "ping", "--hooks", "hooks.yaml", "--hooks", "more.yaml"]
    r = cli(*args, cwd=project.root)
    assert r.returncode == 130 and "Traceback" not in r.stderr
    assert _log(log) == [["before", args, project.root.name], ["after", args, 130]]


def test_a_failing_run_reports_exit_1_with_its_command_line(project, cli):
    mod, log = _setup(project)
    project.write(
        "pipeline.yaml", f"version: 1\nnodes:\n  - {{name: n, func: '{mod}:boom', outputs: y}}\n"
    )
    r = cli("run", "pipeline.yaml", "-q", cwd=project.root)
    assert r.returncode == 1
    args = ["run", "pipeline.yaml", "-q"]
    assert _log(log) == [["before", args, project.root.name], ["after", args, 1]]


def test_watch_stopped_by_ctrl_c_reports_exit_130(project):
    import signal
    import subprocess
    import sys

    _, log = _setup(project)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "watch"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().startswith("watching ")  # set up; Ctrl-C is handled
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
        proc.communicate()
    assert _log(log) == [["before", ["watch"], project.root.name], ["after", ["watch"], 130]]
