"""The CLI end to end: validate, list, emit, schema, --version, --help, and manifest features
(includes, override, forget, env interpolation, allowed_modules, custom events)."""

from __future__ import annotations

import json

import pytest
from sources import source

from hookrunner import HookRunner, __version__

HOOKS = source("cli_hooks")


@pytest.fixture
def features(project):
    """A manifest using every loader feature: include, override, forget, env, custom events."""
    mod = project.module(HOOKS)
    project.write(
        "common/base.yaml",
        f"""
        version: 1
        events:
          model_promoted: {{args: [model_name, version], style: notify}}
        hooks:
          - name: greet
            event: session_start
            call: {mod}:greet
          - name: tag
            event: session_start
            call: {mod}:tag
            with: {{label: base}}
          - name: shout
            event: session_start
            call: {mod}:shout
        """,
    )
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        settings:
          allowed_modules: [{mod}]
        include: [common/base.yaml]
        forget: [shout]
        hooks:
          - name: tag
            event: session_start
            call: {mod}.tag
            with: {{label: "${{env:HR_TEST_LABEL,fallback}}"}}
          - name: promoted
            event: model_promoted
            call: {mod}:promoted
            priority: 5
          - name: guard
            event: pre_tool_execution
            call: {mod}:guard
        """,
    )
    return project, mod


def test_validate_text_and_json(features, cli):
    project, _ = features
    result = cli("validate", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hooks.yaml: ok (hooks, 4 hooks)"
    result = cli("validate", "hooks.yaml", "--format", "json", cwd=project.root)
    assert result.returncode == 0
    assert json.loads(result.stdout) == [
        {
            "file": "hooks.yaml",
            "kind": "hooks",
            "valid": True,
            "count": 4,
            "problems": [],
            "warnings": [],
        }
    ]
    result = cli("validate", "--format", "yaml", cwd=project.root)
    assert result.returncode == 2 and "--format must be 'text' or 'json'" in result.stderr


def test_list_json_fields_order_and_sources(features, cli):
    project, mod = features
    result = cli("list", "--format", "json", cwd=project.root)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    for row in rows:
        assert {"name", "event", "priority", "mode", "enabled", "source"} <= set(row)
    # Catalogue order of events; the include's hooks first; 'tag' overridden in place.
    assert [(r["event"], r["name"]) for r in rows] == [
        ("session_start", "greet"),
        ("session_start", "tag"),
        ("pre_tool_execution", "guard"),
        ("model_promoted", "promoted"),
    ]
    by_name = {r["name"]: r for r in rows}
    assert by_name["greet"]["source"].endswith("common/base.yaml:5")
    assert by_name["tag"]["source"] == "hooks.yaml:7"
    assert by_name["tag"]["overrides"].endswith("common/base.yaml:8")
    assert by_name["tag"]["target"] == f"{mod}.tag"
    assert by_name["promoted"]["priority"] == 5
    assert by_name["guard"]["mode"] == "veto"
    assert all(r["enabled"] is True for r in rows)

    only = json.loads(
        cli("list", "--event", "model_promoted", "--format", "json", cwd=project.root).stdout
    )
    assert [r["name"] for r in only] == ["promoted"]
    bad = cli("list", "--event", "session_strat", cwd=project.root)
    assert bad.returncode == 2 and "did you mean 'session_start'?" in bad.stderr


def test_list_table(features, cli):
    project, _ = features
    result = cli("list", cwd=project.root)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "session_start" in line]
    assert "greet" in lines[0] and "tag" in lines[1]
    assert "hooks.yaml:7 (overrides" in result.stdout
    for col in ("event", "name", "priority", "mode", "enabled", "source"):
        assert col in result.stdout


def test_emit_with_data_json_and_stdin(features, cli, monkeypatch):
    project, _ = features
    monkeypatch.setenv("HR_TEST_LABEL", "from-env")
    result = cli(
        "emit",
        "session_start",
        "--session",
        "s1",
        "--data",
        '{"metadata": {"user": "ada"}}',
        "--format",
        "json",
        cwd=project.root,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # The hook got the value from the environment; the output masks it (never printed).
    assert out["changes"] == {"greeted": "s1", "label": "<from env>"}
    assert "from-env" not in result.stdout + result.stderr
    assert [r["name"] for r in out["results"]] == ["greet", "tag"]  # 'shout' was forgotten
    assert all(r["ok"] and r["duration_ms"] >= 0 for r in out["results"])
    assert "SHOUT" not in result.stderr

    monkeypatch.delenv("HR_TEST_LABEL")
    result = cli(
        "emit",
        "model_promoted",
        "--data",
        "-",
        "--format",
        "json",
        cwd=project.root,
        stdin='{"model_name": "m", "version": 3}',
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["value"] == {"seen": "m@3"}

    text = cli("emit", "session_start", "--session", "s2", cwd=project.root)
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].startswith("greet: ok in ")
    assert 'changes: {"greeted": "s2", "label": "fallback"}' in text.stdout


def test_emit_exit_codes(features, cli):
    project, mod = features
    vetoed = cli("emit", "pre_tool_execution", "--data", '{"tool_name": "rm"}', cwd=project.root)
    assert vetoed.returncode == 2
    assert "vetoed: vetoed by guard" in vetoed.stderr
    allowed = cli("emit", "pre_tool_execution", "--data", '{"tool_name": "ls"}', cwd=project.root)
    assert allowed.returncode == 0
    nothing = cli("emit", "session_end", cwd=project.root)
    assert nothing.returncode == 0 and "session_end: no hooks ran" in nothing.stdout
    unknown = cli("emit", "sesion_end", cwd=project.root)
    assert unknown.returncode == 2 and "did you mean 'session_end'?" in unknown.stderr
    for data in ("{", "[1, 2]"):
        bad = cli("emit", "session_end", "--data", data, cwd=project.root)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr
    typo = cli("emit", "model_promoted", "--data", '{"model": "m"}', cwd=project.root)
    assert typo.returncode == 2
    assert (
        "error: --data: model_promoted has no argument 'model' (did you mean 'model_name'?); "
        "model_promoted needs arguments 'model_name', 'version'" in typo.stderr
    )
    # Session events take their declared arguments only: a misspelt one is refused, not
    # silently matched by no hook (the Python API says the same: EventArgumentError).
    extra = cli("emit", "pre_tool_execution", "--data", '{"toolname": "rm"}', cwd=project.root)
    assert extra.returncode == 2
    assert "pre_tool_execution has no argument 'toolname' (did you mean 'tool_name'?)" in (
        extra.stderr
    )
    missing = cli("emit", "session_end", "--hooks", "nope.yaml", cwd=project.root)
    assert missing.returncode == 2 and "nope.yaml: file not found (" in missing.stderr

    # A failing hook: continue policy → exit 1; raise policy → exit 1 with the error.
    project.write(
        "failing.yaml",
        f"""
        version: 1
        hooks:
          - {{name: soft, event: session_end, call: "{mod}:fails"}}
          - {{name: hard, event: before_pipeline_run, call: "{mod}:fails"}}
        """,
    )
    soft = cli("emit", "session_end", "--hooks", "failing.yaml", cwd=project.root)
    assert soft.returncode == 1
    assert "hook 'soft' failed: ValueError: bad hook" in soft.stderr
    pipeline_args = '{"run_params": {}, "pipeline": null, "catalog": null}'
    hard = cli(
        "emit",
        "before_pipeline_run",
        "--hooks",
        "failing.yaml",
        "--data",
        pipeline_args,
        cwd=project.root,
    )
    assert hard.returncode == 1
    # The hook that raised, its event and its line, then the project's frames.
    assert (
        "error: hook 'hard' (before_pipeline_run, failing.yaml:4) raised ValueError: bad hook"
        in hard.stderr
    )
    assert f"{mod}.py:" in hard.stderr and "in fails" in hard.stderr
    assert "Traceback" not in soft.stderr + hard.stderr
    as_json = cli(
        "emit",
        "before_pipeline_run",
        "--hooks",
        "failing.yaml",
        "--data",
        pipeline_args,
        "--format",
        "json",
        cwd=project.root,
    )
    assert as_json.returncode == 1
    doc = json.loads(as_json.stdout)
    assert doc["error"]["hook"] == "hard" and doc["error"]["source"] == "failing.yaml:4"
    assert doc["results"][0]["error"] == "ValueError: bad hook"


def test_several_hooks_files_override_in_order(features, cli):
    project, mod = features
    project.write(
        "local.yaml",
        f"""
        version: 1
        hooks:
          - name: greet
            event: session_start
            call: {mod}:tag
            with: {{label: local}}
        """,
    )
    result = cli(
        "emit",
        "session_start",
        "--hooks",
        "hooks.yaml",
        "--hooks",
        "local.yaml",
        "--format",
        "json",
        cwd=project.root,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [r["name"] for r in out["results"]] == ["greet", "tag"]
    assert out["changes"] == {"label": "fallback"}  # the overriding 'greet' ran first


def test_allowed_modules_blocks_import(features, cli):
    project, mod = features
    project.write(
        "strict.yaml",
        f"""
        version: 1
        settings: {{allowed_modules: [hookrunner.builtin]}}
        hooks:
          - {{name: g, event: session_start, call: "{mod}:greet"}}
        """,
    )
    result = cli("validate", "strict.yaml", cwd=project.root)
    assert result.returncode == 2
    assert f"strict.yaml:4:43: hooks[0] 'g' → call: module '{mod}' is outside" in result.stderr


def test_python_api_sees_the_same(features, monkeypatch):
    project, _ = features
    monkeypatch.chdir(project.root)
    with HookRunner.from_files("hooks.yaml", environ={"HR_TEST_LABEL": "api"}) as runner:
        assert [h.name for h in runner.hooks("session_start")] == ["greet", "tag"]
        r = runner.emit("session_start", session_id="x", metadata={})
        assert dict(r.changes) == {"greeted": "x", "label": "api"}
        r = runner.emit("model_promoted", model_name="m", version=1)
        assert r.results[0].value == {"seen": "m@1"}


def test_version_and_help(cli):
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"hookrunner {__version__}"
    result = cli("--help")
    assert result.returncode == 0
    for command in ("validate", "list", "emit", "schema"):
        assert command in result.stdout
    result = cli("emit", "--help")
    assert result.returncode == 0 and "--data" in result.stdout and "--session" in result.stdout
    result = cli("no-such-command")
    assert result.returncode == 2 and "Traceback" not in result.stderr
