"""One root mistake gives one problem, and every independent problem shows in one pass.

Each case runs the real ``hookrunner validate`` on a manifest with typical mistakes and checks
the whole report: the cause, the place and the fix, without cascades or doubled brackets.
"""

from __future__ import annotations

import json


def _validate(cli, project, *files: str) -> list[str]:
    r = cli("validate", *files, cwd=project.root)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if "problem" not in line.split(":")[-1]]
    for line in lines:
        assert "((" not in line and "))" not in line, line
    return [line for line in r.stderr.splitlines() if not line.endswith("file(s)")]


def test_one_bad_custom_event_leaves_the_others_known(project, cli):
    mod = project.module("def seen(x):\n    pass\n\ndef other(y):\n    pass\n")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        events:
          broken: {{args: [x], style: notfy}}
          fine: {{args: [y]}}
        hooks:
          - {{name: h1, event: broken, call: {mod}:seen}}
          - {{name: h2, event: fine, call: {mod}:other}}
        """,
    )
    lines = _validate(cli, project, "hooks.yaml")
    assert lines == [
        "hooks.yaml:3:30: events.broken.style: must be one of: notify, veto, firstresult, "
        "wrap, slot (did you mean 'notify'?)"
    ]


def test_every_bad_when_key_is_reported_with_the_schema_errors(project, cli):
    mod = project.module("def h(session_id):\n    pass\n")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: a
            event: session_start
            call: {mod}:h
            priority: -1
            when: {{nod: x, sesion_id: y, tool: z}}
        """,
    )
    lines = _validate(cli, project, "hooks.yaml")
    assert (
        lines[0] == "hooks.yaml:6:15: hooks[0] 'a' → priority: must be between 0 and 1000, got -1"
    )
    assert lines[1].startswith(
        "hooks.yaml:7:12: hooks[0] 'a' → when.nod: matcher key 'nod' is not an argument of "
        "event 'session_start' (available: "
    )
    assert lines[2] == (
        "hooks.yaml:7:20: hooks[0] 'a' → when.sesion_id: matcher key 'sesion_id' is not an "
        "argument of event 'session_start' (did you mean 'session_id'?)"
    )
    # session_start carries no tool_name, so `tool` is a third bad key.
    assert lines[3].startswith("hooks.yaml:7:34: hooks[0] 'a' → when.tool: matcher key 'tool'")
    assert len(lines) == 4
    r = cli("validate", "hooks.yaml", "--format", "json", cwd=project.root)
    report = json.loads(r.stdout)[0]
    assert [p["path"] for p in report["problems"]] == [
        "hooks[0].priority",
        "hooks[0].when.nod",
        "hooks[0].when.sesion_id",
        "hooks[0].when.tool",
    ]


def test_a_failing_call_key_does_not_hide_the_event_typo(project, cli):
    project.write(
        "hooks.yaml",
        """
        version: 1
        hooks:
          - {name: a, event: sesion_start, call: "pkg:"}
        """,
    )
    lines = _validate(cli, project, "hooks.yaml")
    assert lines == [
        "hooks.yaml:3:22: hooks[0] 'a' → event: unknown event 'sesion_start' "
        "(did you mean 'session_start'?)",
        "hooks.yaml:3:42: hooks[0] 'a' → call: 'pkg:' is not a dotted path: "
        "'package.module:function' or 'package.module.function' (name what to import after "
        "the ':', e.g. 'pkg:function')",
    ]


def test_a_pluggy_hookwrapper_class_gets_one_precise_problem(project, cli):
    mod = project.module(
        "import pluggy\n\nimpl = pluggy.HookimplMarker('kedro')\n\n\n"
        "class Timer:\n    @impl(hookwrapper=True)\n    def before_node_run(self, node):\n"
        "        yield\n"
    )
    project.write("hooks.yaml", f"version: 1\nhooks:\n  - {{name: t, class: {mod}:Timer}}\n")
    lines = _validate(cli, project, "hooks.yaml")
    assert lines == [
        "hooks.yaml:3:22: hooks[0] 't' → class: Timer.before_node_run is a pluggy "
        "hookwrapper=True generator; hookrunner does not run generator wrappers (declare a "
        "`mode: wrap` hook on 'before_node_run' instead: a function whose first parameter is "
        "original_func and that calls original_func() where the generator yields; see the "
        "README's Call styles)"
    ]


def test_a_module_that_does_not_import_is_reported_once_where_it_breaks(project, cli):
    mod = project.module("def a(session_id):\n    pass\n\n\ndef b(:\n    pass\n")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: one, event: session_start, call: {mod}:a}}
          - {{name: two, event: session_end, call: {mod}:a}}
        """,
    )
    lines = _validate(cli, project, "hooks.yaml")
    assert lines == [
        f"{mod}.py:5:7: importing '{mod}' failed: SyntaxError: invalid syntax (imported for "
        "hooks[0] 'one' → call at hooks.yaml:3, hooks[1] 'two' → call at hooks.yaml:4)"
    ]
    # An exception raised while the module runs: at the line that raised.
    mod = project.module("X = 1\nraise RuntimeError('no config')\n")
    project.write(
        "other.yaml", f"version: 1\nhooks:\n  - {{name: x, event: session_start, call: {mod}:X}}\n"
    )
    lines = _validate(cli, project, "other.yaml")
    assert lines[0].startswith(
        f"{mod}.py:2:1: importing '{mod}' failed: RuntimeError: no config (imported for"
    )


def test_an_unset_environment_variable_is_one_problem_with_a_readable_hint(
    project, cli, monkeypatch
):
    monkeypatch.delenv("HOOKRUNNER_TEST_TIMEOUT", raising=False)
    project.write(
        "hooks.yaml",
        """
        version: 1
        settings:
          timeout: ${env:HOOKRUNNER_TEST_TIMEOUT}
        hooks: []
        """,
    )
    lines = _validate(cli, project, "hooks.yaml")
    assert lines == [
        "hooks.yaml:3:12: settings.timeout: environment variable 'HOOKRUNNER_TEST_TIMEOUT' is "
        "not set and has no default (export HOOKRUNNER_TEST_TIMEOUT=..., or give a default: "
        "${env:HOOKRUNNER_TEST_TIMEOUT,DEFAULT})"
    ]


def test_file_level_problems_have_no_position_and_bytes_have_theirs(project, cli):
    lines = _validate(cli, project, "missing.yaml")
    assert lines == [
        "missing.yaml: file not found (paths are relative to the current directory; "
        "`hookrunner init` creates a project)"
    ]
    (project.root / "latin1.yaml").write_bytes(b"version: 1\nhooks: []\n# caf\xe9 au lait\n")
    lines = _validate(cli, project, "latin1.yaml")
    assert lines[0].startswith(
        "latin1.yaml:3:6: not UTF-8 text: byte 0xe9 cannot be decoded (invalid continuation "
        "byte) (save the file as UTF-8"
    )
    r = cli("validate", "missing.yaml", "--format", "json", cwd=project.root)
    problem = json.loads(r.stdout)[0]["problems"][0]
    assert problem["line"] == 0 and problem["text"].startswith("missing.yaml: file not found")
