"""The small things a developer meets every day, each through the real command line."""

from __future__ import annotations

import json

CHATTY = """
print("imported and chatty")


def hello(project_metadata):
    print("a CLI hook that prints")


def greet(session_id):
    print("a session hook that prints")
    return {"greeted": session_id}


def guard(tool_name):
    pass
"""


def _chatty(project):
    mod = project.module(CHATTY)
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        events:
          model_promoted: {{args: [model_name], doc: "A model went to production."}}
        hooks:
          - {{name: hello, event: before_command_run, call: {mod}:hello}}
          - {{name: greet, event: session_start, call: {mod}:greet}}
          - name: lint
            event: post_file_edit
            command: [sh, -c, "echo 'a.py:1: E1 first' >&2; echo 'a.py:2: E2 second' >&2; exit 1"]
          - name: veto_rm
            event: pre_tool_execution
            command: [sh, -c, "echo 'rm is not allowed here' >&2; exit 2"]
            when: {{tool: rm}}
        """,
    )
    return mod


def test_format_json_is_one_document_on_stdout_whatever_hooks_print(project, cli):
    _chatty(project)
    for args in (
        ["list", "--format", "json"],
        ["emit", "session_start", "--session", "s1", "--format", "json"],
        ["validate", "hooks.yaml", "--format", "json"],
        ["list", "--events", "--format", "json"],
    ):
        r = cli(*args, cwd=project.root)
        assert r.returncode == 0, (args, r.stderr)
        json.loads(r.stdout)  # one document, nothing else
        assert "imported and chatty" in r.stderr or args[0] == "list" and "--events" in args
    r = cli("emit", "session_start", "--session", "s1", "--format", "json", cwd=project.root)
    assert "a session hook that prints" in r.stderr and "a CLI hook that prints" in r.stderr
    # Failures are documents too: a failing hook, an invalid manifest, a usage error.
    failed = cli("emit", "post_file_edit", "--format", "json", cwd=project.root)
    assert failed.returncode == 1 and json.loads(failed.stdout)["results"][0]["ok"] is False
    project.write("bad.yaml", "version: 1\nhooks: 3\n")
    bad = cli("list", "--hooks", "bad.yaml", "--format", "json", cwd=project.root)
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["problems"][0]["text"].startswith("bad.yaml:2:8: hooks:")
    usage = cli("emit", "sesion_start", "--format", "json", cwd=project.root)
    assert usage.returncode == 2 and "did you mean" in json.loads(usage.stdout)["error"]


def test_command_hooks_show_their_output_and_a_veto_is_not_ok(project, cli):
    _chatty(project)
    r = cli("emit", "post_file_edit", "--data", '{"file_path": "a.py"}', cwd=project.root)
    assert r.returncode == 1
    assert "lint: FAILED in " in r.stdout
    assert (
        "hook 'lint' failed: HookFailed: command exited with 1:\n"
        "  a.py:1: E1 first\n  a.py:2: E2 second" in r.stderr
    )
    r = cli("emit", "pre_tool_execution", "--data", '{"tool_name": "rm"}', cwd=project.root)
    assert r.returncode == 2
    assert "veto_rm: vetoed (rm is not allowed here) in " in r.stdout
    assert "veto_rm: ok" not in r.stdout
    assert "vetoed: rm is not allowed here" in r.stderr


def test_list_events_includes_the_custom_events(project, cli):
    _chatty(project)
    rows = json.loads(cli("list", "--events", "--format", "json", cwd=project.root).stdout)
    custom = [r for r in rows if r["name"] == "model_promoted"]
    assert custom == [
        {
            "name": "model_promoted",
            "group": "custom",
            "style": "notify",
            "on_error": "continue",
            "args": ["model_name"],
            "doc": "A model went to production.",
        }
    ]
    assert rows[0]["name"] == "after_context_created"  # the catalogue comes first
    empty = project.root / "elsewhere"
    empty.mkdir()
    alone = json.loads(cli("list", "--events", "--format", "json", cwd=empty).stdout)
    assert "model_promoted" not in [r["name"] for r in alone]


def test_help_shows_what_to_type(cli):
    r = cli("run", "--help")
    assert r.returncode == 0
    assert "<list[" not in r.stdout and "<bool>" not in r.stdout and "<str>" not in r.stdout
    assert "--hooks" in r.stdout and "PATH" in r.stdout and "ID|last" in r.stdout
    assert "[PIPELINE]" in r.stdout


PIPELINE_NODES = """
def first():
    return 1


def second(x):
    raise RuntimeError("second went wrong")


def fails():
    raise RuntimeError("first went wrong")
"""


def test_run_summary_counts_and_where_a_failure_is(project, cli):
    nodes = project.module(PIPELINE_NODES, "nodes")
    hooks = project.module("def seen(node):\n    pass\n", "seen")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: seen, event: before_node_run, call: {hooks}:seen, when: {{node: frist}}}}\n",
    )
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        nodes:
          - {{name: first, func: {nodes}:fails, outputs: x}}
          - {{name: later, func: {nodes}:second, inputs: x, outputs: y}}
        """,
    )
    r = cli("run", cwd=project.root)
    assert r.returncode == 1
    # The node being reported is counted, also when the first one fails.
    assert "[1/2] node first: FAILED" in r.stdout
    # A `when:` that matches no node of this pipeline is a warning (the run goes on).
    warning = next(line for line in r.stderr.splitlines() if "warning:" in line)
    assert warning.startswith("hooks.yaml:3:")
    assert warning.endswith(
        ": warning: hooks[0] 'seen' → when.node: 'frist' matches no node of "
        "pipeline.yaml, so this hook never runs in this pipeline (did you mean 'first'?)"
    )
    v = cli("validate", "pipeline.yaml", cwd=project.root)
    assert v.returncode == 0 and "warning: hooks[0] 'seen' → when.node" in v.stderr
    doc = json.loads(cli("validate", "pipeline.yaml", "--format", "json", cwd=project.root).stdout)
    assert doc[0]["valid"] and doc[0]["warnings"][0]["severity"] == "warning"
    # "1 call", not "1 calls".
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: seen, event: before_node_run, call: {hooks}:seen}}\n",
    )
    r = cli("run", cwd=project.root)
    assert "hooks: 1 call, 0 failed" in r.stdout


def test_resume_last_and_why_nothing_was_skipped(project, cli):
    nodes = project.module(PIPELINE_NODES, "nodes")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        nodes:
          - {{name: a, func: {nodes}:first, outputs: x}}
          - {{name: b, func: {nodes}:second, inputs: x, outputs: y}}
        """,
    )
    first = cli("run", "--quiet", cwd=project.root)
    assert first.returncode == 1 and "--resume last" in first.stderr
    again = cli("run", "--resume", "last", cwd=project.root)
    assert again.returncode == 1
    # 'a' checkpointed, but its output lives in memory: nothing can be skipped, and it says so.
    said = " ".join(again.stdout.split())
    assert "no node skipped: 'a': its output 'x' lives in memory only" in said
    assert "'b' was not checkpointed by that session" in said
    shown = json.loads(cli("sessions", "show", "last", "--format", "json", cwd=project.root).stdout)
    assert (
        shown["session"]["resumed_from"]
        == json.loads(cli("sessions", "list", "--format", "json", cwd=project.root).stdout)[1]["id"]
    )


def test_list_pipeline_shows_sources_relative_to_here(project, cli):
    hooks = project.module("def seen(node):\n    pass\n", "seen")
    nodes = project.module(PIPELINE_NODES, "nodes")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: seen, event: before_node_run, call: {hooks}:seen}}\n",
    )
    project.write(
        "pipeline.yaml",
        f"version: 1\nhooks:\n  - {{name: seen, event: before_node_run, call: {hooks}:seen, priority: 1}}\n"
        f"nodes:\n  - {{name: a, func: {nodes}:first, outputs: x}}\n",
    )
    rows = json.loads(
        cli("list", "--pipeline", "pipeline.yaml", "--format", "json", cwd=project.root).stdout
    )
    assert [(r["source"], r["overrides"]) for r in rows] == [("pipeline.yaml:3", "hooks.yaml:3")]


def test_a_session_records_its_command_line_and_params(project, cli):
    nodes = project.module("def show(n):\n    return n\n", "nodes")
    project.write(
        "pipeline.yaml",
        f"version: 1\nparams: {{n: 1, model: {{depth: 2}}}}\n"
        f"nodes:\n  - {{name: a, func: {nodes}:show, inputs: 'params:n', outputs: x}}\n",
    )
    r = cli("run", "--quiet", "--params", "n=5", "--params", "model.depth=3", cwd=project.root)
    assert r.returncode == 0, r.stderr
    meta = json.loads(cli("sessions", "show", "last", "--format", "json", cwd=project.root).stdout)[
        "metadata"
    ]
    assert meta["command"] == "hookrunner run --quiet --params n=5 --params model.depth=3"
    assert meta["params"] == {"n": 5, "model.depth": 3}
