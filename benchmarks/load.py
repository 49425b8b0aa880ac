"""Loading, validating and compiling a 10,000-hook manifest against parsing it with libyaml.

The peer is the least any YAML-configured tool must do: ``yaml.load`` with the C loader. Our
side is the whole ``HookRunner.from_files``: positions, env interpolation, schema and semantic
checks, imports, signatures and the compiled call plans.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml
from harness import Row, interleave, measure, ratio

EVENTS = ("before_node_run", "after_node_run", "post_file_edit", "session_start")
ARGS = {
    "before_node_run": "node, inputs",
    "after_node_run": "node, outputs",
    "post_file_edit": "file_path",
    "session_start": "session_id, metadata",
}


def _write(root: Path, count: int) -> Path:
    """``count`` hooks spread over 4 events and 100 distinct functions, with priorities."""
    funcs = []
    for i in range(100):
        event = EVENTS[i % len(EVENTS)]
        funcs.append(f"def f{i}({ARGS[event]}):\n    pass\n")
    (root / "bench_load_hooks.py").write_text("\n".join(funcs))
    lines = ["version: 1", "settings:", "  on_error: continue", "hooks:"]
    for i in range(count):
        f = i % 100
        lines += [
            f"  - name: hook{i}",
            f"    event: {EVENTS[f % len(EVENTS)]}",
            f"    call: bench_load_hooks:f{f}",
            f"    priority: {i % 1000}",
        ]
        if i % 10 == 0:
            lines.append("    when: {node: 'clean_*'}" if f % 4 < 2 else "    timeout: 5s")
    path = root / "hooks.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(quick: bool) -> list[Row]:
    from hookrunner import HookRunner

    count = 10_000
    rounds = 3 if quick else 11
    bench = "load + validate + compile a 10,000-hook manifest"
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), count)

        def ours() -> float:
            from timeit import default_timer

            t0 = default_timer()
            runner = HookRunner.from_files(path)
            elapsed = default_timer() - t0
            assert len(runner.hooks()) == count
            runner.close()
            return elapsed

        def libyaml() -> float:
            from timeit import default_timer

            t0 = default_timer()
            with open(path, encoding="utf-8") as fh:
                data = yaml.load(fh.read(), Loader=yaml.CSafeLoader)
            elapsed = default_timer() - t0
            assert len(data["hooks"]) == count
            return elapsed

        got = {
            name: measure(bench, f"{count} hooks", name, values, "ms")
            for name, values in interleave(
                {"hookrunner load": ours, "libyaml parse alone": libyaml}, rounds
            ).items()
        }
    sys.modules.pop("bench_load_hooks", None)
    rows: list[Row] = list(got.values())
    rows.append(
        ratio(
            bench,
            f"{count} hooks",
            got["hookrunner load"],
            got["libyaml parse alone"],
            1.3,
            "≤ 1.3× libyaml parse",
        )
    )
    return rows
