"""Shell completion through the real entry point: commands, options and their values.

How fast a Tab answers is a benchmark row (benchmarks/completion.py), not a test.
"""

from __future__ import annotations

import os
import subprocess
import sys

import typer.main

from hookrunner.commands import complete
from hookrunner.commands.app import app


def _tab(
    project, line: str, shell: str = "bash", cwd=None, **env: str
) -> subprocess.CompletedProcess:
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    environ = dict(os.environ, _HOOKRUNNER_COMPLETE=f"complete_{shell}", **env)
    if shell == "bash":
        environ.update(COMP_WORDS=line, COMP_CWORD=str(cword))
    else:
        environ["_TYPER_COMPLETE_ARGS"] = line
    return subprocess.run(
        [sys.executable, "-m", "hookrunner"],
        cwd=cwd or project.root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _values(project, line: str) -> list[str]:
    r = _tab(project, line)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return r.stdout.split("\n") if r.stdout else []


def test_the_completion_table_is_the_cli():
    """TREE lists exactly the typer app's commands, options (flag or value) and arguments."""

    def shape(command) -> dict:
        if hasattr(command, "commands"):
            return {"commands": {n: shape(c) for n, c in command.commands.items()}}
        options = {}
        args = 0
        for p in command.params:
            if p.param_type_name == "argument":
                args += 1
                continue
            for opt in p.opts:
                options[opt] = p.is_flag
        return {"options": options, "args": args}

    def table(spec: dict) -> dict:
        if "commands" in spec:
            return {"commands": {n: table(c) for n, c in spec["commands"].items()}}
        return {
            "options": {o: kind is None for o, kind in spec["options"].items()},
            "args": len(spec["args"]),
        }

    cli = shape(typer.main.get_command(app))
    for spec in cli["commands"].values():  # --help is every command's, completed apart
        for sub in spec.get("commands", {}).values():
            sub["options"].pop("--help", None)
            sub["options"].pop("-h", None)
        spec.get("options", {}).pop("--help", None)
        spec.get("options", {}).pop("-h", None)
    assert table({"commands": complete.TREE}) == cli


def test_the_value_lists_are_the_code_s():
    from hookrunner.kernel.schema import SCHEMA_NAMES
    from hookrunner.pipeline import RUNNERS

    assert complete.RUNNER_NAMES == tuple(RUNNERS)
    assert complete.SCHEMA_NAMES == SCHEMA_NAMES


def test_tab_completes_commands_events_runners_schemas_nodes_and_sessions(project, cli):
    nodes = project.module("def step():\n    return 1\n\n\ndef more(x):\n    return x\n")
    project.write("hooks.yaml", "version: 1\nevents:\n  model_promoted: {args: [name]}\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        manifests: []
        nodes:
          - {{name: clean_orders, func: {nodes}:step, outputs: x, tags: [etl]}}
          - {{name: clean_users, func: {nodes}:more, inputs: x, outputs: y, tags: [etl, ml]}}
        """,
    )
    assert cli("run", "--quiet", cwd=project.root).returncode == 0  # ./pipeline.yaml
    assert _values(project, "hookrunner ")[:3] == ["validate", "list", "emit"]
    assert _values(project, "hookrunner ses") == ["sessions"]
    assert _values(project, "hookrunner sessions ") == ["list", "show"]
    assert "pre_tool_execution" in _values(project, "hookrunner emit pre_")
    assert _values(project, "hookrunner emit model") == ["model_promoted"]  # a custom event
    assert _values(project, "hookrunner list --event model") == ["model_promoted"]
    assert _values(project, "hookrunner run --runner ") == ["sequential", "thread", "dask"]
    assert _values(project, "hookrunner schema ") == ["hooks", "pipeline"]
    assert _values(project, "hookrunner run pipeline.yaml --nodes clean_") == [
        "clean_orders",
        "clean_users",
    ]
    assert _values(project, "hookrunner run --nodes clean_orders,clean_u") == [
        "clean_orders,clean_users"
    ]
    assert _values(project, "hookrunner run --tags ") == ["etl", "ml"]
    sessions = _values(project, "hookrunner sessions show ")
    assert sessions[0] == "last" and len(sessions) == 2 and len(sessions[1]) == 11
    (project.root / "deeper").mkdir()  # the store of the nearest folder above
    r = _tab(project, "hookrunner sessions show ", cwd=project.root / "deeper")
    assert r.stdout.split("\n") == sessions
    assert _values(project, f"hookrunner run --resume {sessions[1][:5]}") == [sessions[1]]
    assert _values(project, "hookrunner run --re") == ["--resume"]
    assert _values(project, "hookrunner emit --format ") == ["text", "json"]
    # A path is the shell's to complete: nothing offered (bash then lists files).
    assert _values(project, "hookrunner run --store ") == []


def test_zsh_and_fish_replies(project):
    r = _tab(project, "hookrunner schema p", shell="zsh")
    assert r.stdout == "_arguments '*: :((\"pipeline\"))'"
    r = _tab(project, "hookrunner validate ", shell="zsh")
    assert r.stdout == "_files"
    fish = _tab(project, "hookrunner schema ", shell="fish", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert fish.stdout.split("\n") == ["hooks", "pipeline"]
    wants = _tab(project, "hookrunner schema ", shell="fish", _TYPER_COMPLETE_FISH_ACTION="is-args")
    files = _tab(
        project, "hookrunner validate ", shell="fish", _TYPER_COMPLETE_FISH_ACTION="is-args"
    )
    assert (wants.returncode, files.returncode) == (0, 1)
