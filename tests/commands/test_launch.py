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
    assert plain_validate([]) == ([], "text")
    assert plain_validate(["a.yaml", "--format", "json", "b.yaml"]) == (
        ["a.yaml", "b.yaml"],
        "json",
    )
    assert plain_validate(["--format=text", "a.yaml"]) == (["a.yaml"], "text")
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
