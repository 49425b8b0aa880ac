"""hookrunner inside ``kedro run``: what the entry point costs a project without a manifest,
and what one manifest hook costs per event against the same function as a pluggy hook.

1. A whole ``kedro run`` of a three-node project without ``conf/*/hooks.yaml``, with
   hookrunner's ``kedro.hooks`` entry point registered (what every project gets once
   hookrunner is installed) and with it switched off (``DISABLE_HOOKS_FOR_PLUGINS =
   ("hookrunner",)``): the difference is the entry point's import and its one
   ``after_context_created`` lookup. Beside them, the same project with a manifest of two
   node hooks: what loading hookrunner's runtime, the manifest and the session store adds.
2. One ``before_node_run`` call through Kedro's own hook manager: a manifest hook (the
   bridge's pluggy wrapper, the plan split around Kedro's hooks) against the same function
   registered as a plain ``@hook_impl`` (what ``settings.py``'s ``HOOKS`` do).
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
from pathlib import Path

from harness import Row, interleave, measure, micro, process, ratio

PROJECT = {
    "pyproject.toml": """
        [tool.kedro]
        package_name = "bench_kedro_run"
        project_name = "bench_kedro_run"
        kedro_init_version = "1.7.0"
        source_dir = "src"
    """,
    "src/bench_kedro_run/__init__.py": "",
    "src/bench_kedro_run/settings.py": """
        DISABLE_HOOKS_FOR_PLUGINS = ("kedro-telemetry", "kedro-viz", "kedro-boot"{extra})
    """,
    "src/bench_kedro_run/pipeline_registry.py": """
        from kedro.pipeline import Pipeline, node


        def step(x):
            return x + 1


        def register_pipelines():
            return {"__default__": Pipeline([
                node(step, "params:start", "a", name="one"),
                node(step, "a", "b", name="two"),
                node(step, "b", "c", name="three"),
            ])}
    """,
    "conf/base/parameters.yml": "start: 0\n",
    "conf/base/catalog.yml": "c:\n  type: MemoryDataset\n",
    "conf/local/credentials.yml": "{}\n",
}


MANIFEST = """version: 1
hooks:
  - {name: before, event: before_node_run, call: "gc:enable"}
  - {name: after, event: after_node_run, call: "gc:enable", priority: 10}
"""


def _project(root: Path, off: bool, manifest: bool = False) -> Path:
    for name, text in PROJECT.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = text.replace("{extra}", ', "hookrunner"' if off else "")
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    if manifest:
        (root / "conf/base/hooks.yaml").write_text(MANIFEST)
    return root


def _whole_run(quick: bool) -> list[Row]:
    bench = "kedro run, 3 nodes"
    rounds = 3 if quick else 11
    with tempfile.TemporaryDirectory() as tmp:
        on = _project(Path(tmp) / "on", off=False)
        off = _project(Path(tmp) / "off", off=True)
        with_manifest = _project(Path(tmp) / "manifest", off=False, manifest=True)
        env = {"PYTHONPATH": "src"}
        argv = [sys.executable, "-m", "kedro", "run"]
        sides = {
            "no hooks.yaml, entry point registered": process(argv, on, env=env),
            "no hooks.yaml, entry point disabled": process(argv, off, env=env),
            "conf/base/hooks.yaml, 2 hooks": process(argv, with_manifest, env=env),
        }
        got = {
            name: measure(bench, "whole process", name, values, "ms")
            for name, values in interleave(sides, rounds).items()
        }
    ours, peer = (
        got["no hooks.yaml, entry point registered"],
        got["no hooks.yaml, entry point disabled"],
    )
    return [
        *got.values(),
        ratio(bench, "whole process", ours, peer, 1.05, "≤ 1.05× without it"),
        ratio(
            bench, "whole process", got["conf/base/hooks.yaml, 2 hooks"], peer, None, "information"
        ),
    ]


def _per_event(quick: bool) -> list[Row]:
    from kedro.framework.hooks import _create_hook_manager, hook_impl
    from kedro.pipeline import node

    from hookrunner.kedro.around import Around, function, plugin
    from hookrunner.kedro.locate import Source
    from hookrunner.kedro.manifests import load

    calls = [0]

    def count(node):
        calls[0] += 1

    sys.modules["bench_kedro_hook"] = type(sys)("bench_kedro_hook")
    sys.modules["bench_kedro_hook"].count = count  # type: ignore[attr-defined]

    class SettingsHooks:
        @hook_impl
        def before_node_run(self, node):
            count(node)

    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "hooks.yaml"
        manifest.write_text(
            "version: 1\nhooks:\n"
            "  - {name: count, event: before_node_run, call: 'bench_kedro_hook:count'}\n"
        )
        runner, _ = load([Source(str(manifest), "base")])
    ours = _create_hook_manager()
    spec = ours.hook.before_node_run.spec
    around = Around(runner.registry.plans["before_node_run"])
    ours.register(
        plugin({"before_node_run": function("before_node_run", around.run, spec.argnames)}, "bench")
    )
    theirs = _create_hook_manager()
    theirs.register(SettingsHooks())
    kw = {
        "node": node(lambda x: x, "a", "b", name="n"),
        "catalog": None,
        "inputs": {"a": 1},
        "is_async": False,
        "run_id": "bench",
    }
    number = 2_000 if quick else 20_000
    rounds = 3 if quick else 11
    stmt = "call(**kw)"
    sides = {
        "manifest hook (hookrunner's wrapper)": micro(
            stmt, {"call": ours.hook.before_node_run, "kw": kw}, number
        ),
        "the same function as a @hook_impl": micro(
            stmt, {"call": theirs.hook.before_node_run, "kw": kw}, number
        ),
    }
    bench = "before_node_run through Kedro's hook manager, 1 hook"
    got = {
        name: measure(bench, "per call", name, values, "µs")
        for name, values in interleave(sides, rounds).items()
    }
    a, b = got["manifest hook (hookrunner's wrapper)"], got["the same function as a @hook_impl"]
    return [*got.values(), ratio(bench, "per call", a, b, None, "information")]


def run(quick: bool) -> list[Row]:
    return _whole_run(quick) + _per_event(quick)
