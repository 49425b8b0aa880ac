"""Each call style end to end, through the Python API and the CLI (§3)."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys

import pytest
from sources import source

from hookrunner import EventArgumentError, HookRunner

HOOKS = source("styles_hooks")

MANIFEST = """
version: 1
events:
  lookup: {{args: [key], style: firstresult}}
  choose: {{args: [x], style: slot}}
  fanout: {{args: [x], parallel: true}}
  afanout: {{args: [x], parallel: true}}
hooks:
  - {{name: add_user, event: session_start, call: "{m}:add_user", priority: 1}}
  - {{name: nothing, event: session_start, call: "{m}:nothing"}}
  - {{name: sees_user, event: session_start, call: "{m}:sees_user", priority: 900}}
  - {{name: scale, event: before_node_run, call: "{m}:scale_inputs"}}
  - {{name: check_inputs, event: before_node_run, call: "{m}:check_inputs"}}
  - {{name: rewrite, event: pre_search_query, call: "{m}:rewrite"}}
  - {{name: rewrite_again, event: pre_search_query, call: "{m}:rewrite_again"}}
  - {{name: deny_rm, event: pre_tool_execution, call: "{m}:deny_rm", priority: 10}}
  - {{name: raise_veto, event: pre_tool_execution, call: "{m}:raise_veto", priority: 20}}
  - {{name: gate_cmd, event: pre_tool_execution, priority: 30,
      command: ["{py}", "-c", "import sys, json; d = json.load(sys.stdin); sys.stderr.write('command says no'); sys.exit(2 if d['tool_name'] == 'dd' else 0)"]}}
  - {{name: after_guard, event: pre_tool_execution, call: "{m}:after_guard", priority: 40}}
  - {{name: observer, event: pre_tool_execution, call: "{m}:observe_false", mode: notify, priority: 50}}
  - {{name: first_none, event: lookup, call: "{m}:first_none"}}
  - {{name: first_value, event: lookup, call: "{m}:first_value"}}
  - {{name: never, event: lookup, call: "{m}:never"}}
  - {{name: outer, event: session_metadata, call: "{m}:outer", priority: 1}}
  - {{name: cache, event: session_metadata, call: "{m}:cache", priority: 2}}
  - {{name: validate, event: session_metadata, call: "{m}:validate", priority: 3}}
  - {{name: transform, event: session_metadata, call: "{m}:transform", priority: 4}}
  - {{name: crash, event: session_metadata, call: "{m}:crash", priority: 5}}
  - {{name: retry, event: session_feedback, call: "{m}:retry"}}
  - {{name: slot_off, event: build_s3_client, call: "{m}:slot_fails", enabled: false}}
  - {{name: slot_a, event: build_s3_client, call: "{m}:slot_a", priority: 20}}
  - {{name: slot_b, event: build_s3_client, call: "{m}:slot_b", priority: 10}}
  - {{name: mine, event: choose, call: "{m}:mine", when: {{x: "yes*"}}}}
  - {{name: par_one, event: fanout, call: "{m}:par_one"}}
  - {{name: par_fail, event: fanout, call: "{m}:par_fail"}}
  - {{name: par_two, event: fanout, call: "{m}:par_two"}}
  - {{name: a_par_one, event: afanout, call: "{m}:a_par_one"}}
  - {{name: a_par_two, event: afanout, call: "{m}:a_par_two"}}
"""


@pytest.fixture
def styles(project):
    m = project.module(HOOKS)
    project.write("hooks.yaml", MANIFEST.format(m=m, py=sys.executable))
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    mod = importlib.import_module(m)
    yield runner, mod, project
    runner.close()


# --------------------------------------------------------------------------- notify


def test_notify_merges_changes_and_later_hooks_see_them(styles):
    runner, mod, _ = styles
    r = runner.emit("session_start", session_id="s1", metadata={"team": "x"})
    assert [h.name for h in r.results] == ["add_user", "nothing", "sees_user"]
    assert all(h.ok and h.duration_ms >= 0 for h in r.results)
    assert dict(r.changes) == {"user": "ada", "seen": "ada"}
    assert mod.calls == [
        ("add_user", {"team": "x"}),
        ("nothing", "s1"),
        ("sees_user", {"team": "x", "user": "ada"}),
    ]
    assert r.vetoed is False and r.value is None
    assert r.results[0].value == {"user": "ada"}


_NODE = {"node": None, "catalog": None, "is_async": False, "run_id": "r"}


def test_before_node_run_mapping_overrides_inputs(styles):
    runner, mod, _ = styles
    r = runner.emit("before_node_run", **_NODE, inputs={"x": 2, "y": 1})
    assert dict(r.changes) == {"x": 20}
    assert mod.calls == [("check_inputs", {"x": 20, "y": 1})]


def test_before_node_run_rejects_a_non_mapping(project):
    m = project.module("def bad(inputs):\n    return 42\n")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: bad, event: before_node_run, call: '{m}:bad'}}\n",
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    with pytest.raises(Exception, match="must return a mapping or None, not int"):
        runner.emit("before_node_run", **_NODE, inputs={})


def test_pre_search_query_chains_the_query(styles):
    runner, _, _ = styles
    r = runner.emit("pre_search_query", query="hooks")
    assert r.value == "HOOKS AND LANG:PY"
    assert r.changes["query"] == "HOOKS AND LANG:PY"


# --------------------------------------------------------------------------- veto


def test_veto_by_returning_false_stops_the_rest(styles):
    runner, mod, _ = styles
    r = runner.emit("pre_tool_execution", tool_name="rm")
    assert r.vetoed and r.reason == "vetoed by deny_rm"
    assert [h.name for h in r.results] == ["deny_rm"]
    assert ("after_guard", "rm") not in mod.calls


def test_veto_by_raising_veto(styles):
    runner, _, _ = styles
    r = runner.emit("pre_tool_execution", tool_name="curl")
    assert r.vetoed and r.reason == "no network"
    assert [h.name for h in r.results] == ["deny_rm", "raise_veto"]


def test_veto_by_command_exit_2(styles):
    runner, mod, _ = styles
    r = runner.emit("pre_tool_execution", tool_name="dd")
    assert r.vetoed and r.reason == "command says no"
    assert [h.name for h in r.results] == ["deny_rm", "raise_veto", "gate_cmd"]
    assert ("after_guard", "dd") not in mod.calls


def test_no_veto_runs_every_hook_and_notify_mode_cannot_veto(styles):
    runner, mod, _ = styles
    r = runner.emit("pre_tool_execution", tool_name="ls")
    assert not r.vetoed and r.reason is None
    assert [h.name for h in r.results] == [
        "deny_rm",
        "raise_veto",
        "gate_cmd",
        "after_guard",
        "observer",
    ]
    assert ("after_guard", "ls") in mod.calls


# --------------------------------------------------------------------------- firstresult


def test_firstresult_stops_at_first_value(styles):
    runner, mod, _ = styles
    r = runner.emit("lookup", key="k")
    assert r.value == "value-of-k"
    assert [h.name for h in r.results] == ["first_none", "first_value"]
    assert ("never", "k") not in mod.calls


# --------------------------------------------------------------------------- wrap


def test_wrap_nests_first_hook_outermost_and_transforms_positionally(styles):
    runner, mod, _ = styles
    seen = []

    def store(action, session_id, metadata=None, keys=None):
        seen.append((action, session_id, metadata))
        return "stored"

    r = runner.wrap("session_metadata", store, action="update", session_id="s", metadata={"k": 1})
    assert r.value == "stored" and not r.vetoed
    assert seen == [("update", "s", {"k": "1"})]  # transform replaced the payload
    assert mod.calls == [("outer-in", "update"), ("outer-out", "update")]
    assert [h.name for h in r.results] == ["outer", "cache", "validate", "transform", "crash"]


def test_wrap_cache_skips_the_operation(styles):
    runner, _, _ = styles
    called = []
    r = runner.wrap(
        "session_metadata", lambda **kw: called.append(kw), action="get", session_id="s9"
    )
    assert r.value == {"cached": "s9"} and called == []
    assert [h.name for h in r.results] == ["outer", "cache"]


def test_wrap_validate_refuses(styles):
    runner, _, _ = styles
    called = []
    r = runner.wrap(
        "session_metadata",
        lambda **kw: called.append(kw),
        action="update",
        session_id="s",
        metadata={"forbidden": 1},
    )
    assert r.vetoed and r.reason == "forbidden key" and r.value is None and called == []


def test_wrap_failing_hook_refuses_with_reason(styles):
    runner, _, _ = styles
    called = []
    r = runner.wrap(
        "session_metadata",
        lambda **kw: called.append(kw),
        action="delete",
        session_id="s",
        keys=["a"],
    )
    assert r.vetoed and called == []
    assert r.reason == "refused by crash: RuntimeError: no deletes today"
    failed = [h for h in r.results if not h.ok]
    assert [h.name for h in failed] == ["crash"]


def test_wrap_retry(styles):
    runner, mod, _ = styles
    attempts = []

    def flaky(action, session_id, feedback):
        attempts.append(feedback)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return "saved"

    r = runner.wrap("session_feedback", flaky, action="add", session_id="s", feedback={"r": 1})
    assert r.value == "saved" and len(attempts) == 3
    assert mod.calls == [("retry", 0), ("retry", 1)]


def test_wrap_keyword_and_too_many_positionals(project):
    m = project.module(HOOKS)
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: rename, event: session_metadata, call: "{m}:rename_kw"}}
          - {{name: many, event: session_feedback, call: "{m}:extra_positional"}}
          - {{name: async_wrap, event: session_metadata, call: "{m}:async_wrap", priority: 900}}
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    r = runner.wrap("session_metadata", lambda action, **_: action, action="get", session_id="s")
    assert r.value == {"async": "renamed"}
    r = runner.wrap("session_feedback", lambda **_: "x", action="add", session_id="s", feedback={})
    assert r.vetoed and "original_func takes at most 1 positional argument" in r.reason


def test_wrap_positional_payload_goes_to_keys_when_keys_given(project):
    m = project.module("def drop(original_func, action):\n    return original_func(['only'])\n")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: drop, event: session_metadata, call: '{m}:drop'}}\n",
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    r = runner.wrap(
        "session_metadata",
        lambda action, session_id, metadata=None, keys=None: (metadata, keys),
        action="delete",
        session_id="s",
        keys=["a", "b"],
    )
    assert r.value == (None, ["only"])


# --------------------------------------------------------------------------- slot


def test_slot_first_enabled_hook_in_order_wins(styles):
    runner, _, _ = styles
    r = runner.emit("build_s3_client", session_kwargs={}, client_kwargs={"region": "x"})
    assert r.value == ("b", {"region": "x"})  # slot_off is disabled; slot_b has priority 10
    assert [h.name for h in r.results] == ["slot_b"]


def test_slot_falls_back_when_no_hook_matches(styles):
    runner, _, _ = styles
    assert runner.emit("choose", x="yes-please").value == "mine:yes-please"
    r = runner.emit("choose", x="no")
    assert r.value is None and r.results == []


def test_slot_failing_hook_falls_through(project):
    m = project.module(HOOKS)
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: broken, event: build_s3_client, call: "{m}:slot_fails", priority: 1}}
          - {{name: good, event: build_s3_client, call: "{m}:slot_a"}}
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    r = runner.emit("build_s3_client", session_kwargs={}, client_kwargs={})
    assert r.value == ("a", {})
    assert [(h.name, h.ok) for h in r.results] == [("broken", False), ("good", True)]


# --------------------------------------------------------------------------- parallel


def test_parallel_event_runs_hooks_concurrently_and_reports_in_order(styles):
    runner, _, _ = styles
    r = runner.emit("fanout", x=7)  # the barrier needs both hooks running at once
    assert [(h.name, h.ok) for h in r.results] == [
        ("par_one", True),
        ("par_fail", False),
        ("par_two", True),
    ]
    assert r.results[0].value == {"one": 7} and r.results[2].value == {"two": 7}
    assert isinstance(r.results[1].error, ValueError)


def test_parallel_event_with_aemit(styles):
    runner, mod, _ = styles

    async def main():
        mod.gate.clear()
        return await runner.aemit("afanout", x=1)

    r = asyncio.run(main())
    assert [(h.name, h.ok, h.value) for h in r.results] == [
        ("a_par_one", True, {"one": 1}),
        ("a_par_two", True, {"two": 1}),
    ]


# --------------------------------------------------------------------------- async


def test_async_hooks_via_emit_and_aemit(project):
    m = project.module(HOOKS)
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        events:
          lookup: {{args: [key], style: firstresult}}
        hooks:
          - {{name: a_notify, event: session_start, call: "{m}:a_notify"}}
          - {{name: sees, event: session_start, call: "{m}:sees_user", priority: 900}}
          - {{name: a_first, event: lookup, call: "{m}:a_first"}}
          - {{name: first_value, event: lookup, call: "{m}:first_value"}}
          - {{name: a_veto, event: pre_tool_execution, call: "{m}:a_veto"}}
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    mod = importlib.import_module(m)

    def check(r_start, r_lookup, r_veto):
        assert dict(r_start.changes) == {"async": True, "seen": None}
        assert r_lookup.value == "value-of-k"
        assert r_veto.vetoed and r_veto.reason == "async says no"

    check(
        runner.emit("session_start", metadata={}),
        runner.emit("lookup", key="k"),
        runner.emit("pre_tool_execution", tool_name="rm"),
    )
    assert mod.calls[-1] == ("sees_user", {"async": True})

    async def main():
        results = (
            await runner.aemit("session_start", metadata={}),
            await runner.aemit("lookup", key="k"),
            await runner.aemit("pre_tool_execution", tool_name="rm"),
        )
        # A sync emit from inside a running loop still completes async hooks.
        inner = runner.emit("lookup", key="k")
        return results, inner

    results, inner = asyncio.run(main())
    check(*results)
    assert inner.value == "value-of-k"


# --------------------------------------------------------------------------- CLI


def test_each_style_through_the_cli(styles, cli):
    _, _, project = styles

    def emit(event, data):
        return cli("emit", event, "--data", json.dumps(data), "--format", "json", cwd=project.root)

    notify = emit("session_start", {"metadata": {}})
    assert notify.returncode == 0, notify.stderr
    assert json.loads(notify.stdout)["changes"] == {"user": "ada", "seen": "ada"}

    for tool, reason in (
        ("rm", "vetoed by deny_rm"),
        ("curl", "no network"),
        ("dd", "command says no"),
    ):
        veto = emit("pre_tool_execution", {"tool_name": tool})
        assert veto.returncode == 2 and f"vetoed: {reason}" in veto.stderr
        assert json.loads(veto.stdout)["vetoed"] is True

    first = emit("lookup", {"key": "k"})
    assert first.returncode == 0 and json.loads(first.stdout)["value"] == "value-of-k"

    cached = emit("session_metadata", {"action": "get", "session_id": "s1"})
    assert cached.returncode == 0 and json.loads(cached.stdout)["value"] == {"cached": "s1"}
    refused = emit(
        "session_metadata", {"action": "update", "session_id": "s", "metadata": {"forbidden": 1}}
    )
    assert refused.returncode == 2 and "vetoed: forbidden key" in refused.stderr

    slot = emit("build_s3_client", {"session_kwargs": {}, "client_kwargs": {"r": 1}})
    assert slot.returncode == 0 and json.loads(slot.stdout)["value"] == ["b", {"r": 1}]

    par = emit("fanout", {"x": 1})
    assert par.returncode == 1  # par_fail failed under continue
    assert [r["ok"] for r in json.loads(par.stdout)["results"]] == [True, False, True]


def test_matchers_on_arguments_and_well_known_attributes(project):
    from kedro.pipeline import node

    m = project.module(
        "seen = []\ndef rec(**kw):\n    seen.append(kw.get('node') or kw.get('tool_name') or kw.get('dataset_name'))\n"
    )
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: etl_clean, event: before_node_run, call: "{m}:rec",
              when: {{node: "clean_*", tags: [etl, other]}}}}
          - {{name: ds, event: before_dataset_loaded, call: "{m}:rec", when: {{dataset: {{regex: "^raw_[0-9]+$"}}}}}}
          - {{name: tool, event: post_tool_execution, call: "{m}:rec", when: {{tool: [git, "py*"]}}}}
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    mod = importlib.import_module(m)

    def f(x):
        return x

    clean = node(f, "a", "b", name="clean_rows", tags=["etl"])
    rest = {"catalog": None, "inputs": {}, "is_async": False, "run_id": "r"}
    runner.emit("before_node_run", node=clean, **rest)
    runner.emit("before_node_run", node=node(f, "a", "c", name="clean_x", tags=["ml"]), **rest)
    runner.emit("before_node_run", node=node(f, "a", "d", name="train", tags=["etl"]), **rest)
    for name in ("raw_1", "raw_x", "raw_12"):
        runner.emit("before_dataset_loaded", dataset_name=name, node=None)
    for tool in ("git", "python", "bash"):
        runner.emit("post_tool_execution", tool_name=tool)
    assert mod.seen == [clean, "raw_1", "raw_12", "git", "python"]


def test_command_hooks_get_json_stdin_env_and_placeholders(project):
    script = (
        "import json, os, sys; d = json.load(sys.stdin); "
        "print(json.dumps({'argv': sys.argv[1:], 'event': os.environ['HOOKRUNNER_EVENT'], "
        "'sid': os.environ['HOOKRUNNER_SESSION_ID'], 'stdin_file': d['file_path'], "
        "'meta': d['metadata']}))"
    )
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: lint
            event: post_file_edit
            command: [{sys.executable!r}, -c, {script!r}, "{{file_path}}", "x-{{session_id}}"]
          - name: failing
            event: post_file_edit
            command: [{sys.executable!r}, -c, "import sys; sys.stderr.write('lint failed'); sys.exit(3)"]
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    r = runner.emit("post_file_edit", session_id="s7", file_path="src/a.py", metadata={"n": 1})
    assert r.results[0].ok
    assert dict(r.changes) == {
        "argv": ["src/a.py", "x-s7"],
        "event": "post_file_edit",
        "sid": "s7",
        "stdin_file": "src/a.py",
        "meta": {"n": 1},
    }
    failed = r.results[1]
    assert not failed.ok and str(failed.error) == "command exited with 3: lint failed"


def test_concurrent_emits_do_not_mix(project):
    """Emits from many threads each see only their own arguments and changes."""
    import threading

    m = project.module(
        "def one(session_id, metadata):\n    return {'one': session_id}\n"
        "def quiet(session_id):\n    return None\n"
        "def two(session_id, metadata):\n    return {'two': metadata['one'] + '!'}\n"
    )
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: one, event: session_start, call: "{m}:one"}}
          - {{name: quiet, event: session_start, call: "{m}:quiet"}}
          - {{name: two, event: session_start, call: "{m}:two"}}
          - {{name: quiet2, event: session_end, call: "{m}:quiet"}}
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    errors: list[str] = []

    def worker(t: int) -> None:
        for i in range(200):
            sid = f"{t}-{i}"
            r = runner.emit("session_start", session_id=sid, metadata={})
            if dict(r.changes) != {"one": sid, "two": sid + "!"}:
                errors.append(f"{sid}: {dict(r.changes)}")
            r = runner.emit("session_end", session_id=sid)
            if [h.name for h in r.results] != ["quiet2"] or not r.ok:
                errors.append(f"{sid}: {r.results}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_emit_refuses_arguments_the_event_does_not_take_and_requires_the_rest(project):
    """The same check as ``hookrunner emit``: an unknown argument (with a suggestion) or a
    required one left out is an EventArgumentError naming the caller; optional ones default
    to None."""
    m = project.module("got = []\ndef h(node, run_id):\n    got.append((node, run_id))\n")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: h, event: before_node_run, call: '{m}:h'}}\n",
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    mod = importlib.import_module(m)
    full = {"node": "n", "catalog": 1, "inputs": {}, "is_async": False, "run_id": "r"}
    assert runner.emit("before_node_run", **full).ok
    with pytest.raises(EventArgumentError, match=r"before_node_run has no argument 'extra'"):
        runner.emit("before_node_run", **full, extra=5)
    with pytest.raises(EventArgumentError, match=r"needs arguments 'catalog', 'inputs'") as e:
        runner.emit("before_node_run", node="n2", is_async=False, run_id="r")
    assert e.value.missing == ["catalog", "inputs"] and e.value.event == "before_node_run"
    assert isinstance(e.value, TypeError)  # what Python says of a wrong call, too
    with pytest.raises(EventArgumentError, match=r"'toolname' \(did you mean 'tool_name'\?\)"):
        runner.emit("pre_tool_execution", toolname="bash")
    with pytest.raises(EventArgumentError, match="session_end has no argument 'anything'"):
        runner.emit("session_end", anything=1)  # no hook on it: checked all the same
    with pytest.raises(EventArgumentError, match="session_end has no argument"):
        asyncio.run(runner.aemit("session_end", anything=1))
    assert runner.emit("pre_tool_execution", tool_name="bash").ok  # optional ones may be left out
    assert mod.got == [("n", "r")]
