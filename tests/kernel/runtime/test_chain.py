"""``pre_tool_execution`` chains ``tool_input``: a hook may return a rewritten input, which
the later hooks receive and the emit returns (a coding agent's ``updatedInput``)."""

from __future__ import annotations

import importlib

from sources import source

from hookrunner import HookRunner
from hookrunner.kernel.manifest import load_manifests
from hookrunner.kernel.registry import build
from hookrunner.kernel.runtime.hook import State


def _manifest(project):
    mod = project.module(source("chain_hooks"))
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: quieter, event: pre_tool_execution, call: {mod}:quieter, priority: 1}}
          - {{name: observe, event: pre_tool_execution, call: {mod}:observe, priority: 2}}
          - name: watch
            event: pre_tool_execution
            call: {mod}:watch_false
            mode: notify
            priority: 3
          - {{name: last, event: pre_tool_execution, call: {mod}:last, priority: 4}}
        """,
    )
    return path, mod


def test_a_returned_tool_input_reaches_later_hooks_and_the_emitter(project):
    path, name = _manifest(project)
    with HookRunner.from_files(path) as runner:  # puts the project on sys.path
        mod = importlib.import_module(name)
        r = runner.emit("pre_tool_execution", tool_name="Bash", tool_input={"command": "ls"})
    rewritten = {"command": "ls", "quiet": True}
    assert not r.vetoed
    assert r.value == rewritten
    # True (an answer) and a notify hook's False never replace the input.
    assert mod.SEEN == [rewritten, rewritten]
    assert dict(r.changes) == {"tool_input": rewritten, "rewrites": 1}


def test_a_process_that_emits_once_uses_the_general_loop(project):
    path, name = _manifest(project)
    for compile_plans in (True, False):
        registry = build(load_manifests([path]), State(compile=compile_plans))
        mod = importlib.import_module(name)
        mod.SEEN.clear()
        plan = registry.plans["pre_tool_execution"]
        r = plan.emit({"tool_name": "Bash", "tool_input": {"command": "ls"}})
        compiled = getattr(plan.emit, "__code__", None)
        filename = compiled.co_filename if compiled else ""
        assert filename.startswith("<hookrunner plan") is compile_plans
        assert r.value == {"command": "ls", "quiet": True}
        assert len(mod.SEEN) == 2
