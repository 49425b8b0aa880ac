"""``hookrunner validate`` runs no project code beyond imports, and no import can take it over.

Editors and pre-commit run it on every save: it imports the modules the files name (to check
callables and signatures) but constructs no hooks class or dataset and calls no project
function; an import that exits, ends its process, raises a BaseException or hangs is a
problem at the line that names it, and every other problem is still reported (exit 2).
"""

from __future__ import annotations

import json
import time

import pytest
from sources import source


@pytest.fixture
def marks(project, monkeypatch):
    folder = project.root / "marks"
    folder.mkdir()
    monkeypatch.setenv("HR_VALIDATE_MARKS", str(folder))
    return folder


def _made(folder) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _write_project(project) -> str:
    mod = project.module(source("validate_project"), "vproj")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: cls, class: "{mod}:Hooks", args: {{threshold: 3}}}}
          - {{name: fn, event: post_file_edit, call: "{mod}:hook", with: {{level: 1}}}}
        """,
    )
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{x: 1}}
        catalog:
          data: {{type: "{mod}:Dataset", path: d.txt, mode: w}}
        nodes:
          - {{name: n, func: "{mod}:node", inputs: data, outputs: y}}
        """,
    )
    return mod


def test_validate_imports_but_constructs_and_calls_nothing(project, cli, marks):
    _write_project(project)
    text = cli("validate", "hooks.yaml", "pipeline.yaml", cwd=project.root)
    assert text.returncode == 0, text.stderr
    assert "hooks.yaml: ok (hooks, 2 hooks)" in text.stdout
    assert "pipeline.yaml: ok (pipeline, 1 node)" in text.stdout
    as_json = cli("validate", "--format", "json", "hooks.yaml", "pipeline.yaml", cwd=project.root)
    assert as_json.returncode == 0
    assert [r["valid"] for r in json.loads(as_json.stdout)] == [True, True]  # stdout stays JSON
    assert "printed while importing" in as_json.stderr
    assert _made(marks) == {"imported"}


def test_args_and_options_are_checked_against_the_signatures(project, cli, marks):
    mod = _write_project(project)
    hooks = (project.root / "hooks.yaml").read_text()
    (project.root / "hooks.yaml").write_text(hooks.replace("threshold: 3", "treshold: 3"))
    pipeline = (project.root / "pipeline.yaml").read_text()
    (project.root / "pipeline.yaml").write_text(pipeline.replace("mode: w", "mood: w"))
    result = cli("validate", "hooks.yaml", "pipeline.yaml", cwd=project.root)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if ".yaml:" in line]
    assert lines[0].startswith("hooks.yaml:3:")
    assert "hooks[0] 'cls' → args: constructing Hooks would fail: TypeError:" in lines[0]
    assert "check `args:` against the constructor's parameters" in lines[0]
    assert any(
        line.startswith("pipeline.yaml:4:")
        and "catalog.data.mood: Dataset does not accept these options" in line
        for line in lines
    ), result.stderr
    assert mod and _made(marks) == {"imported"}


def test_imports_that_exit_or_raise_are_located_and_the_rest_is_reported(project, cli, marks):
    exits = project.module(source("validate_exits"), "vexit")
    ends = project.module(source("validate_os_exit"), "vend")
    base = project.module(source("validate_base_exception"), "vbase")
    stdin = project.module(source("validate_reads_stdin"), "vstdin")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: a, event: post_file_edit, call: "{exits}:f"}}
          - {{name: b, event: post_file_edit, call: "{ends}:f"}}
          - {{name: c, event: post_file_edit, call: "{base}:f"}}
          - {{name: d, event: post_file_edit, call: "{stdin}:f"}}
          - {{name: e, event: post_file_edit, call: "{ends}:g"}}
          - {{name: f, event: post_fle_edit, command: [echo]}}
        """,
    )
    result = cli("validate", "hooks.yaml", cwd=project.root)
    assert result.returncode == 2, result.stderr
    out = result.stderr.splitlines()
    at = [line for line in out if "hooks.yaml:" in line and "imported for" not in line]
    lines = [line.partition("hooks.yaml:")[2] for line in at]
    assert lines[0].endswith(
        f"hooks[0] 'a' → call: importing {exits!r} failed: the module exits when imported "
        "(SystemExit(7)) (a module must not exit at import; move that code under "
        "`if __name__ == '__main__':`)"
    )
    ended = f"call: importing {ends!r} ended the process (exit code 9)"
    assert lines[0].startswith("3:") and lines[1].startswith("4:") and ended in lines[1]
    assert lines[2].startswith("7:") and ended in lines[2]  # every line naming it
    assert "hooks[5] 'f' → event: unknown event 'post_fle_edit'" in lines[3]
    # A module that raises at import is a problem where it raises, naming who imported it.
    raised = {line.partition(".py:")[0]: line for line in out if ".py:" in line.split(" ")[0]}
    assert raised[stdin].startswith(f"{stdin}.py:3:") and (
        f"importing {stdin!r} failed: EOFError" in raised[stdin]
    )
    assert raised[stdin].endswith("(imported for hooks[3] 'd' → call at hooks.yaml:6)")
    assert f"importing {base!r} failed: Stop: stopped at import" in raised[base]
    assert raised[base].endswith("(imported for hooks[2] 'c' → call at hooks.yaml:5)")
    assert result.stderr.splitlines()[-1] == "6 problems in 1 file(s)"
    as_json = cli("validate", "--format", "json", "hooks.yaml", cwd=project.root)
    assert as_json.returncode == 2
    assert len(json.loads(as_json.stdout)[0]["problems"]) == 6


def test_a_hanging_import_is_stopped_at_the_bound(project, cli, monkeypatch):
    monkeypatch.setenv("HOOKRUNNER_IMPORT_TIMEOUT", "1")
    hangs = project.module(source("validate_hangs"), "vhang")
    ok = project.module("def node(x):\n    return x\n", "vok")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: h, event: before_node_run, call: '{hangs}:f'}}\n",
    )
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{x: 1}}
        nodes:
          - {{name: n, func: "{hangs}:node", inputs: "params:x", outputs: y}}
          - {{name: m, func: "{ok}:node", inputs: [y, z], outputs: w}}
        """,
    )
    started = time.monotonic()
    result = cli("validate", "pipeline.yaml", cwd=project.root)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    hung = f"importing {hangs!r} did not finish within 1 s"
    assert f"hooks.yaml:3:45: hooks[0] 'h' → call: {hung}" in result.stderr
    assert f"pipeline.yaml:4:21: nodes[0] 'n' → func: {hung}" in result.stderr
    # The rest of the file is still checked (the other node's signature).
    assert "nodes[1] 'm' → inputs: 2 positional input(s) do not fit" in result.stderr
    assert elapsed < 60  # one bound, not one per line naming the module (and no hang)


def test_a_hanging_import_is_stopped_when_it_imports_through_hookrunner(project, cli, monkeypatch):
    """A module that imports another through hookrunner (a runner made at import time)
    before it hangs: the inner import's end does not lift the outer one's bound."""
    monkeypatch.setenv("HOOKRUNNER_IMPORT_TIMEOUT", "1")
    inner = project.module("def f():\n    pass\n", "vinner")
    outer = project.module(
        "from hookrunner.kernel.resolve import import_callable\n"
        f"import_callable({inner + ':f'!r})\n"
        "while True:\n    pass\n",
        "vouter",
    )
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: h, event: session_start, call: '{outer}:f'}}\n",
    )
    started = time.monotonic()
    result = cli("validate", "hooks.yaml", cwd=project.root)
    assert result.returncode == 2, result.stderr
    assert f"importing {outer!r} did not finish within 1 s" in result.stderr
    assert time.monotonic() - started < 30


def test_no_import_checks_yaml_schema_and_graph_only(project, cli, marks):
    mod = _write_project(project)
    pipeline = (project.root / "pipeline.yaml").read_text()
    broken = pipeline.replace("outputs: y", "outputs: data")
    (project.root / "pipeline.yaml").write_text(broken)
    project.write(
        "more.yaml",
        f"version: 1\nhooks:\n  - {{name: x, event: post_fle_edit, call: '{mod}:hook'}}\n",
    )
    result = cli(
        "validate", "--no-import", "hooks.yaml", "pipeline.yaml", "more.yaml", cwd=project.root
    )
    assert result.returncode == 2
    assert "hooks.yaml: ok (hooks, 2 entries, nothing imported)" in result.stdout
    assert "nodes[0] 'n' → inputs" in result.stderr or "cycle" in result.stderr
    assert "unknown event 'post_fle_edit'" in result.stderr
    assert _made(marks) == set()


def test_the_spawned_child_reports_like_the_forked_one(project, marks, monkeypatch):
    """Off Linux the child is a fresh interpreter: same protocol, same problems."""
    from hookrunner.commands.isolation import isolated
    from hookrunner.commands.validation import check

    ends = project.module(source("validate_os_exit"), "vend")
    path = project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: b, event: post_file_edit, call: '{ends}:f'}}\n",
    )
    monkeypatch.chdir(project.root)
    entry = "hookrunner.commands.validation:check"
    spawned = isolated([path], check, entry, bound=30, method="spawn")
    forked = isolated([path], check, entry, bound=30, method="fork")
    assert spawned == forked
    [problem] = spawned[0]["problems"]
    assert problem["line"] == 3 and f"importing {ends!r} ended the process" in problem["message"]


def test_ctrl_c_during_validate_format_json_still_prints_one_document(project):
    """The plain (typer-free) validate path ends like every command: under --format json,
    an interrupted validate prints ``{"ok": false, "exit_code": 130}``."""
    import signal
    import subprocess
    import sys

    reached = project.root / "reached"
    hangs = project.module(f"open({str(reached)!r}, 'w').close()\nwhile True:\n    pass\n", "vh")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: h, event: session_start, call: '{hangs}:f'}}\n",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "validate", "--format", "json", "hooks.yaml"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not reached.exists() and time.monotonic() < deadline:  # into the hanging import
        time.sleep(0.05)
    assert reached.exists()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert json.loads(out) == {"ok": False, "exit_code": 130}
    assert "Traceback" not in err
