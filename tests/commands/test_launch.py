"""The console entry point answers plain ``validate`` calls itself, exactly as the typer app."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hookrunner.commands.launch import plain_validate

TYPER = "import sys; from hookrunner.commands.app import main; sys.exit(main(sys.argv[1:]))"


def _both(args: list[str], cwd):
    def run(argv):
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr

    return (
        run([sys.executable, "-m", "hookrunner", *args]),
        run([sys.executable, "-c", TYPER, *args]),
    )


@pytest.fixture
def files(project):
    mod = project.module("def ok(file_path):\n    pass\n")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: a, event: post_file_edit, call: {mod}:ok}}\n",
    )
    project.write(
        "broken.yaml",
        f"version: 1\nhooks:\n  - name: b\n    event: post_file_edit\n    call: {mod}:nope\n"
        "    priority: 2000\n",
    )
    return project


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["validate", "hooks.yaml"],
        ["validate", "hooks.yaml", "broken.yaml"],
        ["validate", "--format", "json", "hooks.yaml", "broken.yaml"],
        ["validate", "broken.yaml", "--format=json"],
        ["validate", "missing.yaml"],
        ["validate", "--no-import", "hooks.yaml", "broken.yaml"],
        ["validate", "--format", "json", "--no-import", "hooks.yaml"],
    ],
)
def test_plain_validate_matches_the_typer_command(files, args):
    plain, full = _both(args, files.root)
    assert plain == full
    assert plain[0] == (0 if "broken.yaml" not in args and "missing.yaml" not in args else 2)


def test_the_plain_path_reports_problems_with_positions(files):
    (code, out, err), _ = _both(["validate", "broken.yaml"], files.root)
    assert code == 2 and out == ""
    assert "broken.yaml:6:15: hooks[0] 'b' → priority: must be between 0 and 1000" in err


def test_help_and_unknown_options_go_to_typer(files):
    (code, out, _), _ = _both(["validate", "--help"], files.root)
    assert code == 0 and "--format" in out
    (code, _, err), full = _both(["validate", "--format", "yaml", "hooks.yaml"], files.root)
    assert code == 2 and "--format must be 'text' or 'json'" in err
    assert (code, err) == (full[0], full[2])


def test_plain_validate_parsing():
    assert plain_validate([]) == ([], "text", True)
    assert plain_validate(["a.yaml", "--format", "json", "b.yaml"]) == (
        ["a.yaml", "b.yaml"],
        "json",
        True,
    )
    assert plain_validate(["--format=text", "a.yaml"]) == (["a.yaml"], "text", True)
    assert plain_validate(["--no-import", "a.yaml"]) == (["a.yaml"], "text", False)
    assert plain_validate(["--help"]) is None
    assert plain_validate(["-h"]) is None
    assert plain_validate(["--format", "xml"]) is None
    assert plain_validate(["--format"]) is None
    assert plain_validate(["--quiet", "a.yaml"]) is None


def test_a_tab_is_answered_without_typer_and_other_shells_go_to_it(files, monkeypatch, capsys):
    import hookrunner.commands.app
    import hookrunner.commands.launch

    called = []
    monkeypatch.setattr(hookrunner.commands.app, "run", lambda: called.append(True))
    monkeypatch.setattr(sys, "argv", ["hookrunner"])
    monkeypatch.setenv("_HOOKRUNNER_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "hookrunner sch")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit) as done:
        hookrunner.commands.launch.run()
    assert done.value.code == 0 and capsys.readouterr().out == "schema" and called == []
    monkeypatch.setenv("_HOOKRUNNER_COMPLETE", "complete_powershell")
    hookrunner.commands.launch.run()
    assert called == [True]


def test_plain_run_parsing():
    from pathlib import Path

    from hookrunner.commands.launch import plain_run

    assert plain_run(["p.yaml"]) == {"pipeline": Path("p.yaml")}
    # No PIPELINE: running.execute's default, ./pipeline.yaml.
    assert plain_run([]) == {} and plain_run(["-q"]) == {"quiet": True}
    assert plain_run(["--traceback", "p.yaml"]) == {
        "pipeline": Path("p.yaml"),
        "full_traceback": True,
    }
    got = plain_run(
        ["--runner", "thread", "p.yaml", "--workers=3", "--tags", "a,b", "--tags", "c", "-q"]
        + ["--hooks", "h.yaml", "--params", "x.y=1", "--store", "s.db", "--params-new"]
    )
    assert got == {
        "runner": "thread",
        "pipeline": Path("p.yaml"),
        "workers": 3,
        "tags": ["a,b", "c"],
        "quiet": True,
        "hooks": [Path("h.yaml")],
        "params": ["x.y=1"],
        "store": Path("s.db"),
        "params_new": True,
    }
    for args in (
        ["p.yaml", "--help"],
        ["p.yaml", "-h"],
        ["p.yaml", "--watch"],
        ["p.yaml", "--mode", "fast"],  # a parser_hook option: typer keeps it for the hooks
        ["p.yaml", "q.yaml"],
        ["p.yaml", "--workers", "two"],
        ["p.yaml", "--workers", "+-3"],  # not an int for int(), though its digits are
        ["p.yaml", "--workers", "²"],
        ["p.yaml", "--workers"],
        ["p.yaml", "--quiet=yes"],
        ["p.yaml", "--", "x"],
    ):
        assert plain_run(args) is None, args


RUN_MODULES = (
    "import sys, json; from hookrunner.commands import launch\n"
    "sys.argv = ['hookrunner', *sys.argv[1:]]\n"
    "try:\n    launch.run()\n"
    "except SystemExit as exc:\n    code = exc.code\n"
    "print(json.dumps([code, sorted(m for m in ('typer', 'pydantic', 'rich') if m in sys.modules)]))"
)


def _modules(args, cwd):
    import json

    done = subprocess.run(
        [sys.executable, "-c", RUN_MODULES, *args], cwd=cwd, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done


def test_a_plain_run_matches_the_typer_command_without_importing_it(project):
    from pipeline_kit import NODES, RECORDER, three_node_pipeline

    rec = project.module(RECORDER)
    nodes = project.module(NODES)
    three_node_pipeline(project, rec, nodes)
    (code, modules), done = _modules(["run", "pipeline.yaml", "--quiet"], project.root)
    assert code == 0 and modules == [], done.stderr
    (plain_code, plain_out, plain_err), (code, out, err) = _both(
        ["run", "pipeline.yaml", "--quiet", "--nodes", "nope"], project.root
    )
    assert plain_code == code == 2 and plain_err == err and "no node named 'nope'" in err
    (plain_code, plain_out, _), (code, out, _) = _both(
        ["run", "pipeline.yaml", "--params", "y=3"], project.root
    )
    assert plain_code == code == 0

    def head(text):  # the slowest hooks depend on timing; what comes before does not
        lines = text.split("slowest hooks")[0].splitlines()
        return [line for line in lines if " ms" not in line and "session" not in line]

    assert head(plain_out) == head(out) and "pipeline succeeded" in plain_out
    # No PIPELINE: ./pipeline.yaml, in both; none there: the same error.
    (plain_code, plain_out, _), (code, out, _) = _both(["run", "--quiet"], project.root)
    assert plain_code == code == 0
    empty = project.root / "empty"
    empty.mkdir()
    (plain_code, _, plain_err), (code, _, err) = _both(["run"], empty)
    assert plain_code == code == 2 and plain_err == err and "no pipeline.yaml in" in err
    (code, modules), _ = _modules(["--help"], project.root)
    assert code == 0 and "rich" not in modules and "pydantic" not in modules
