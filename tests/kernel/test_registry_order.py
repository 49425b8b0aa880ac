"""Property test of the one ordering rule (§2), as `hookrunner list --format json` prints it.

Rule: tryfirst hooks, then the rest by ascending priority, then trylast hooks; ties keep
declaration order. Declaration order is load order: an include's hooks before the includer's,
a same-named hook in a later file replaces the earlier one in place, and a hooks class
registers its methods (whose pluggy markers decide tryfirst/trylast) at the class entry's place.
Hooks registered from code (``HookRunner.register``) follow the files' hooks under the same
rule: a name already declared is replaced in place, a new one comes after them.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import itertools
import json
import os
import tempfile
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookrunner import HookRunner
from hookrunner.commands.app import main
from hookrunner.kernel.events import CATALOGUE

EVENTS = ["session_start", "before_node_run", "post_file_edit"]
RANKS = ["tryfirst", None, "trylast"]
_unique = itertools.count()

function_hook = st.fixed_dictionaries(
    {
        "kind": st.just("call"),
        "event": st.sampled_from(EVENTS),
        "priority": st.one_of(st.none(), st.integers(0, 1000), st.sampled_from([0, 500, 1000])),
        "rank": st.sampled_from(RANKS),
    }
)
class_hook = st.fixed_dictionaries(
    {
        "kind": st.just("class"),
        # event → the method's pluggy marker (absent key: no method for that event)
        "methods": st.dictionaries(st.sampled_from(EVENTS), st.sampled_from(RANKS), min_size=1),
        "priority": st.one_of(st.none(), st.integers(0, 1000)),
        "rank": st.sampled_from(RANKS),
    }
)
entry = st.one_of(function_hook, function_hook, class_hook)


def named(entries):
    return st.lists(
        st.sampled_from([f"h{i}" for i in range(8)]),
        min_size=len(entries),
        max_size=len(entries),
        unique=True,
    ).map(lambda names: list(zip(names, entries, strict=True)))


files = st.tuples(
    st.lists(entry, max_size=6).flatmap(named),  # the included file
    st.lists(entry, max_size=6).flatmap(named),  # the including file
)


def _yaml_entry(name: str, e: dict, module: str, cls: str | None) -> str:
    parts = [f"name: {name}"]
    if e["kind"] == "call":
        parts += [f"event: {e['event']}", f"call: '{module}:noop'"]
    else:
        parts.append(f"class: '{module}:{cls}'")
    if e["priority"] is not None:
        parts.append(f"priority: {e['priority']}")
    if e["rank"]:
        parts.append(f"{e['rank']}: true")
    return "  - {" + ", ".join(parts) + "}\n"


def _class_source(cls: str, methods: dict) -> str:
    out = [f"class {cls}:"]
    for event, rank in methods.items():
        marker = {"tryfirst": "(tryfirst=True)", "trylast": "(trylast=True)", None: ""}[rank]
        out.append(f"    @hook_impl{marker}\n    def {event}(self):\n        pass")
    return "\n".join(out) + "\n"


def _expected(include, root) -> list[tuple[str, str]]:
    decls: list[tuple[str, dict]] = []
    for name, e in include + root:  # later file replaces in place
        index = next((i for i, (n, _) in enumerate(decls) if n == name), None)
        if index is None:
            decls.append((name, e))
        else:
            decls[index] = (name, e)
    hooks = []
    for name, e in decls:
        prio = 500 if e["priority"] is None else e["priority"]
        if e["kind"] == "call":
            hooks.append((e["event"], name, RANKS.index(e["rank"]), prio))
        else:
            for event in sorted(e["methods"]):  # methods register in name order
                rank = e["methods"][event] or e["rank"]
                hooks.append((event, f"{name}.{event}", RANKS.index(rank), prio))
    order = [e.name for e in CATALOGUE]
    keyed = [
        (order.index(ev), rank, prio, seq, ev, name)
        for seq, (ev, name, rank, prio) in enumerate(hooks)
    ]
    return [(ev, name) for *_, ev, name in sorted(keyed)]


def _write_project(base: Path, include, root, extra=()) -> str:
    """The module and both manifests for one example; ``extra`` entries' classes go in the
    module too (hooks registered from code use them). Returns the module's name."""
    module = f"ordering_{os.getpid()}_{next(_unique)}"
    source = ["from kedro.framework.hooks import hook_impl", "def noop():", "    pass", ""]
    for i, (_, e) in enumerate(list(include) + list(root) + list(extra)):
        if e["kind"] == "class":
            source.append(_class_source(f"Hooks{i}", e["methods"]))
    (base / f"{module}.py").write_text("\n".join(source))
    classes = {i: f"Hooks{i}" for i, (_, e) in enumerate(include + root) if e["kind"] == "class"}
    inc_text = "version: 1\nhooks:\n" + "".join(
        _yaml_entry(n, e, module, classes.get(i)) for i, (n, e) in enumerate(include)
    )
    root_text = "version: 1\ninclude: [inc.yaml]\nhooks:\n" + "".join(
        _yaml_entry(n, e, module, classes.get(len(include) + i)) for i, (n, e) in enumerate(root)
    )
    (base / "inc.yaml").write_text(inc_text if include else "version: 1\n")
    (base / "hooks.yaml").write_text(root_text if root else "version: 1\ninclude: [inc.yaml]\n")
    return module


def _list_json(manifest: Path) -> list[dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["list", "--hooks", str(manifest), "--format", "json"])
    assert code == 0, out.getvalue()
    return json.loads(out.getvalue())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files)
def test_list_order_is_the_documented_rule(pair):
    include, root = pair
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        _write_project(base, include, root)
        rows = _list_json(base / "hooks.yaml")
    assert [(r["event"], r["name"]) for r in rows] == _expected(include, root)
    for r in rows:
        assert r["order"] in ("tryfirst", "normal", "trylast")


# Registered from code: names from the files' pool and more (some replace a file's hook), not
# unique (registering a name again replaces the earlier registration in place).
registered = st.lists(st.tuples(st.sampled_from([f"h{i}" for i in range(10)]), entry), max_size=6)


def _register(runner: HookRunner, mod, name: str, e: dict, index: int) -> None:
    options = {} if e["priority"] is None else {"priority": e["priority"]}
    if e["rank"]:
        options[e["rank"]] = True
    if e["kind"] == "call":
        runner.register(name, e["event"], mod.noop, **options)
    else:  # a hooks object: its methods named after events register
        runner.register(name, None, getattr(mod, f"Hooks{index}")(), **options)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files, registered)
def test_registered_hooks_follow_the_same_rule(pair, code):
    include, root = pair
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        module = _write_project(base, include, root, code)
        with HookRunner.from_files(base / "hooks.yaml") as runner:
            mod = importlib.import_module(module)
            for i, (name, e) in enumerate(code):
                _register(runner, mod, name, e, len(include) + len(root) + i)
            rows = runner.describe()
    assert [(r["event"], r["name"]) for r in rows] == _expected(include, root + code)
    # Each hook shows the source of the declaration that won its name.
    in_files = {name for name, _ in include + root}
    from_code = {name for name, _ in code}
    for r in rows:
        declared = r["name"].split(".")[0]
        assert r["source"].startswith("python:") == (declared in from_code)
        if declared in from_code:  # replacing a file's hook says so
            assert (r["overrides"] is not None) == (declared in in_files)
        assert r["order"] in ("tryfirst", "normal", "trylast")


def test_documented_example_order(project, cli):
    """A readable instance of the rule, through the real CLI in a subprocess."""
    m = project.module(
        textwrap.dedent(
            """
            from kedro.framework.hooks import hook_impl

            def noop():
                pass

            class Early:
                @hook_impl(tryfirst=True)
                def session_start(self):
                    pass
            """
        )
    )
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: late, event: session_start, call: "{m}:noop", trylast: true, priority: 0}}
          - {{name: p500_a, event: session_start, call: "{m}:noop"}}
          - {{name: p10, event: session_start, call: "{m}:noop", priority: 10}}
          - {{name: p500_b, event: session_start, call: "{m}:noop"}}
          - {{name: first, event: session_start, call: "{m}:noop", tryfirst: true, priority: 999}}
          - {{name: cls, class: "{m}:Early", priority: 1000}}
        """,
    )
    result = cli("list", "--event", "session_start", "--format", "json", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert [r["name"] for r in json.loads(result.stdout)] == [
        "first",
        "cls.session_start",
        "p10",
        "p500_a",
        "p500_b",
        "late",
    ]
