"""``hookrunner run``, ``sessions`` and ``init`` end to end, in a subprocess like a user."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipeline_kit import NODES, RECORDER, read_log, three_node_pipeline

REPO = Path(__file__).resolve().parents[2]


def _sessions(cli, store):
    r = cli("sessions", "list", "--store", str(store), "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_quickstart_example_runs_from_a_copy(tmp_path, cli):
    example = tmp_path / "quickstart"
    shutil.copytree(
        REPO / "examples" / "quickstart",
        example,
        ignore=shutil.ignore_patterns("out", ".hookrunner", "__pycache__"),
    )
    r = cli("run", str(example / "pipeline.yaml"))
    assert r.returncode == 0, r.stderr
    report = json.loads((example / "out" / "report.json").read_text())
    assert report["dropped_rows"] == 3 and report["by_region"]["south"] == 157.95
    assert report["top_customer"] == {"name": "linus", "amount": 310.0}
    out = r.stdout
    assert "node clean: ok" in out and "node report: ok" in out  # plain lines: not a terminal
    assert "[timing] clean:" in out and "[wrap] session" in out
    assert "pipeline succeeded" in out and "nodes: 3 run, 0 failed" in out
    assert "slowest hooks" in out
    [session] = _sessions(cli, example / ".hookrunner" / "sessions.db")
    assert session["status"] == "ok" and session["checkpoints"] == 3
    # The validation hook stops a run on bad input and the alert hook reports it.
    (example / "data" / "orders.csv").write_text("id,customer\n1,ada\n")
    r = cli("run", str(example / "pipeline.yaml"), "--quiet")
    assert r.returncode == 1
    assert "[ALERT] run" in r.stderr and "lacks column(s): amount, order_id, region" in r.stderr
    assert "Traceback" not in r.stderr


def test_node_failure_exit_1_events_and_store(project, cli):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(NODES.replace('os.environ.get("HK_FAIL_SPLIT")', "True"), "nodes")
    log = project.root / "events.jsonl"
    three_node_pipeline(project, rec, nodes)
    hooks = (project.root / "hooks.yaml").read_text()
    (project.root / "hooks.yaml").write_text(hooks + f"    args: {{log: '{log}'}}\n")
    r = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert r.returncode == 1, r.stderr
    # The culprit with its place, the project's frames of the traceback, how to resume.
    assert "error: node 'B' (pipeline.yaml:11) failed: RuntimeError: split exploded" in r.stderr
    assert f"  {nodes}.py:10 in split\n    raise RuntimeError" in r.stderr
    assert "--resume last" in r.stderr
    assert "Traceback" not in r.stderr
    events = [e[0] for e in read_log(log)]
    assert "on_node_error" in events and "on_pipeline_error" in events
    assert events[-3:] == ["pre_session_end", "session_end", "after_command_run"]
    assert read_log(log)[-1][-1] == 1  # after_command_run got the real exit code
    [session] = _sessions(cli, project.root / ".hookrunner" / "sessions.db")
    assert session["status"] == "failed" and session["summary"]["nodes_failed"] == ["B"]
    r = cli(
        "sessions",
        "show",
        session["id"],
        "--store",
        ".hookrunner/sessions.db",
        "--format",
        "json",
        cwd=project.root,
    )
    shown = json.loads(r.stdout)
    assert [c["node"] for c in shown["checkpoints"]] == ["A"]
    assert shown["metadata"]["status"] == "failed" and shown["metadata"]["exit_code"] == 1
    assert shown["metadata"]["command"] == "hookrunner run pipeline.yaml --quiet"
    assert any(c["event"] == "on_node_error" and c["ok"] for c in shown["calls"])
    failure = shown["session"]["summary"]["failure"]
    assert failure["kind"] == "node" and failure["node"] == "B"
    assert failure["traceback"].startswith(f"  {nodes}.py:10 in split")
    assert "Traceback (most recent call last)" in failure["traceback_full"]
    # sessions show prints the short traceback, --traceback the full one.
    text = cli("sessions", "show", "last", cwd=project.root)
    assert "error: node 'B' (pipeline.yaml:11) failed" in text.stdout
    assert f"{nodes}.py:10 in split" in text.stdout and "Traceback" not in text.stdout
    full = cli("sessions", "show", session["id"][:6], "--traceback", cwd=project.root / "data")
    assert "Traceback (most recent call last)" in full.stdout


def test_ctrl_c_exits_130_and_still_ends_the_session(project, cli):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(
        """
        import os, signal

        def interrupt():
            os.kill(os.getpid(), signal.SIGINT)
            return 1
        """,
        "intr",
    )
    log = project.root / "events.jsonl"
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks: [{{name: rec, class: '{rec}:Recorder', args: {{log: '{log}'}}}}]\n",
    )
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        nodes:
          - {{name: stop, func: "{nodes}:interrupt", outputs: x}}
        """,
    )
    r = cli("run", "pipeline.yaml", cwd=project.root)
    assert r.returncode == 130, r.stderr
    assert "Traceback" not in r.stderr
    events = [e[0] for e in read_log(log)]
    assert events.count("session_start") == events.count("session_end") == 1
    assert read_log(log)[-1] == ("after_command_run", None, None, 130)
    [session] = _sessions(cli, project.root / ".hookrunner" / "sessions.db")
    assert session["status"] == "interrupted"


def test_run_usage_errors_exit_2(project, cli):
    nodes = project.module("def one():\n    return 1\n")
    project.write(
        "pipeline.yaml", f"version: 1\nnodes:\n  - {{name: a, func: '{nodes}:one', outputs: x}}\n"
    )
    for args, message in [
        (["--runner", "threads"], "unknown runner 'threads'"),
        (["--nodes", "b"], "--nodes: no node named 'b'"),
        (["--params", "novalue"], "expected NAME=VALUE"),
        (["--resume", "nope"], "--resume: no session 'nope'"),
        (["--bogus"], "unknown option(s): --bogus"),
    ]:
        r = cli("run", "pipeline.yaml", *args, cwd=project.root)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr
    r = cli("run", "missing.yaml", cwd=project.root)
    assert r.returncode == 2 and "missing.yaml: file not found" in r.stderr


def test_params_giving_a_key_a_value_and_a_key_below_it_exit_2_before_any_session(project, cli):
    nodes = project.module("def one(p):\n    return p\n")
    project.write(
        "pipeline.yaml",
        "version: 1\nparams: {a: {b: 1}}\n"
        f"nodes:\n  - {{name: n, func: '{nodes}:one', inputs: 'params:a', outputs: x}}\n",
    )
    for args in (
        ["--params", "a=1", "--params", "a.b=2"],
        ["--params", "a.b=2", "--params", "a=1", "--params-new"],
        ["--params", "a.b=2", "--params", "a.b.c=3"],
    ):
        r = cli("run", "pipeline.yaml", *args, cwd=project.root)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr
        parent, child = ("a.b", "a.b.c") if "a.b.c=3" in args else ("a", "a.b")
        assert (
            f"error: --params {parent} and --params {child}: {parent!r} is given a value and "
            f"has a key set below it (give one of them; {parent}={{...}} sets a whole mapping)"
        ) in r.stderr, r.stderr
        assert not (project.root / ".hookrunner").exists()  # no session began
    r = cli("run", "pipeline.yaml", "--params", "a={b: 2}", "--quiet", cwd=project.root)
    assert r.returncode == 0, r.stderr


def test_parser_hook_adds_options(project, cli):
    hooks = project.module(
        """
        def add_option(parser):
            parser.add_argument("--greeting", default="hi")

        def show(cli_args):
            print("greeting:", cli_args["greeting"])
        """
    )
    nodes = project.module("def one():\n    return 1\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        hooks:
          - {{name: p, event: parser_hook, call: "{hooks}:add_option"}}
          - {{name: s, event: pre_config_hook, call: "{hooks}:show"}}
        nodes:
          - {{name: a, func: "{nodes}:one", outputs: x}}
        """,
    )
    r = cli("run", "pipeline.yaml", "--greeting", "hello", "--quiet", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert "greeting: hello" in r.stdout


def test_run_hook_slot_can_replace_the_runner(project, cli):
    hooks = project.module(
        """
        def dry_run(context):
            print("would run:", [n.name for n in context.pipeline.nodes])
            return {}
        """
    )
    nodes = project.module("def one():\n    raise RuntimeError('must not run')\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        hooks:
          - {{name: dry, event: run_hook, call: "{hooks}:dry_run"}}
        nodes:
          - {{name: a, func: "{nodes}:one", outputs: x}}
        """,
    )
    r = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert "would run: ['a']" in r.stdout


def test_init_scaffolds_a_project_that_runs(tmp_path, cli):
    target = tmp_path / "proj"
    r = cli("init", str(target))
    assert r.returncode == 0, r.stderr
    assert {p.name for p in target.iterdir()} >= {"pipeline.yaml", "hooks.yaml", "data"}
    r = cli("validate", str(target / "pipeline.yaml"), str(target / "hooks.yaml"))
    assert r.returncode == 0, r.stderr
    r = cli("run", str(target / "pipeline.yaml"))
    assert r.returncode == 0, r.stderr
    assert json.loads((target / "out" / "summary.json").read_text()) == {
        "orders": 3,
        "total": 57.75,
    }
    assert "[timing] keep_large" in r.stdout
    r = cli("init", str(target))
    assert r.returncode == 2 and "already exist" in r.stderr and "--force" in r.stderr
    # What a run writes stays out of git; the files are readable like any the user writes.
    ignored = (target / ".gitignore").read_text().splitlines()
    assert ".hookrunner/" in ignored and "out/" in ignored
    assert (target / "hooks.yaml").stat().st_mode & 0o044 == 0o044
    # The $schema comments resolve, relative to the file, to the schema `hookrunner schema`
    # prints.
    for name in ("hooks", "pipeline"):
        first = (target / f"{name}.yaml").read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        where = first.partition("$schema=")[2]
        assert not where.startswith(("http:", "https:", "/"))
        shown = cli("schema", name)
        assert (target / where).resolve().read_text() == shown.stdout


def test_init_keeps_an_existing_gitignore_and_adds_what_it_lacks(tmp_path, cli):
    (tmp_path / ".gitignore").write_text("*.pyc\nout/\n")
    r = cli("init", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\nout/\n.hookrunner/\n__pycache__/\n"


def test_run_without_a_file_runs_pipeline_yaml_here(tmp_path, cli):
    r = cli("run", cwd=tmp_path)
    assert r.returncode == 2
    assert "error: no pipeline.yaml in " in r.stderr and "hookrunner init" in r.stderr
    assert cli("init", cwd=tmp_path).returncode == 0
    r = cli("run", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "summary.json").is_file()


def test_sessions_commands(project, cli):
    nodes = project.module("def one():\n    return 1\n")
    project.write(
        "pipeline.yaml", f"version: 1\nnodes:\n  - {{name: a, func: '{nodes}:one', outputs: x}}\n"
    )
    assert cli("run", "pipeline.yaml", "--quiet", cwd=project.root).returncode == 0
    assert cli("run", "pipeline.yaml", "--quiet", cwd=project.root).returncode == 0
    r = cli("sessions", "list", cwd=project.root)  # default store: ./.hookrunner/sessions.db
    assert r.returncode == 0 and r.stdout.count(" ok ") == 2
    sessions = _sessions(cli, project.root / ".hookrunner/sessions.db")
    newest = sessions[0]["id"]
    r = cli("sessions", "show", newest, cwd=project.root)
    assert r.returncode == 0 and f"session {newest}" in r.stdout and "checkpoints" in r.stdout
    r = cli("sessions", "show", "zzz", cwd=project.root)
    assert r.returncode == 2 and "no session 'zzz'" in r.stderr
    r = cli("sessions", "list", "--store", str(project.root / "nowhere.db"))
    assert r.returncode == 2 and "no session store" in r.stderr


def test_schema_pipeline_is_printed_and_matches_the_builder(cli):
    from hookrunner.pipeline.schema import build_pipeline_schema

    shipped = (REPO / "schemas" / "pipeline.schema.json").read_text()
    assert json.loads(shipped) == build_pipeline_schema()
    assert shipped == json.dumps(build_pipeline_schema(), indent=2) + "\n"
    r = cli("schema", "pipeline")
    assert r.returncode == 0 and json.loads(r.stdout) == build_pipeline_schema()
    hook = json.loads(shipped)["$defs"]["hook"]
    from hookrunner.kernel.schema import hook_entry_schema

    assert hook == json.loads(json.dumps(hook_entry_schema()))  # local hooks = manifest hooks


def test_extra_manifests_load_before_the_pipeline_hooks(project, cli):
    hooks = project.module(
        """
        def hello(session_id):
            print("hello from", "extra" if session_id else "?")

        def local():
            print("local after extra")
        """
    )
    nodes = project.module("def one():\n    return 1\n")
    project.write(
        "extra.yaml",
        f"version: 1\nhooks: [{{name: hi, event: session_start, call: '{hooks}:hello'}}]\n",
    )
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        hooks:
          - {{name: local, event: session_start, call: "{hooks}:local"}}
        nodes:
          - {{name: a, func: "{nodes}:one", outputs: x}}
        """,
    )
    r = cli("run", "pipeline.yaml", "--hooks", "extra.yaml", "--quiet", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.index("hello from extra") < r.stdout.index("local after extra")


def test_a_file_that_is_no_session_store_is_a_clean_error(project, cli):
    bogus = project.write("bogus.db", "not a database\n")
    for args in (("sessions", "list"), ("sessions", "show", "x")):
        r = cli(*args, "--store", str(bogus), cwd=project.root)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert f"cannot open session store {bogus}: file is not a database" in r.stderr


def test_init_into_a_file_is_a_clean_error(tmp_path, cli):
    target = tmp_path / "afile"
    target.write_text("keep me\n")
    r = cli("init", str(target))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"error: {target} is a file; name a folder to create the project in" in r.stderr
    assert target.read_text() == "keep me\n"
