"""Emitting an event: hookrunner (default and lean) against pluggy and a hand-written loop.

N hooks each take 2 of the event's 4 arguments. Every side is called the same way, with the
four arguments by keyword, from a ``timeit`` statement (no wrapper call in the timed loop).
A second benchmark puts one wrap-mode hook around the 10 notify hooks of an event (pluggy: one
hookwrapper around 10 implementations of a hook).
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
from pathlib import Path

from harness import Row, absolute, interleave, measure, micro, ratio

SIZES = (0, 1, 10, 100)
KW = "a=1, b=2, c=3, d=4"


def _write_project(root: Path) -> Path:
    """A hooks module with 100 distinct functions and one manifest with every bench event."""
    funcs = "\n".join(f"def h{i}(a, c):\n    pass\n" for i in range(max(SIZES)))
    wrapper = "def around(original_func, a):\n    return original_func()\n"
    (root / "bench_emit_hooks.py").write_text(funcs + "\n" + wrapper)
    lines = ["version: 1", "events:"]
    for n in SIZES:
        lines.append(f"  bench{n}: {{args: [a, b, c, d]}}")
    lines.append("  bench_wrap: {args: [a, b, c, d]}")
    lines.append("hooks:")
    for n in SIZES:
        for i in range(n):
            lines.append(f"  - {{name: n{n}_h{i}, event: bench{n}, call: bench_emit_hooks:h{i}}}")
    for i in range(10):
        lines.append(f"  - {{name: w_h{i}, event: bench_wrap, call: bench_emit_hooks:h{i}}}")
    lines.append("  - {name: around, event: bench_wrap, call: bench_emit_hooks:around, mode: wrap}")
    path = root / "hooks.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _pluggy(n: int, wrapper: bool = False):
    import pluggy

    spec = pluggy.HookspecMarker("bench")
    impl = pluggy.HookimplMarker("bench")

    class Spec:
        @spec
        def bench(self, a, b, c, d):
            """The benchmark event."""

    pm = pluggy.PluginManager("bench")
    pm.add_hookspecs(Spec)
    for i in range(n):
        ns: dict = {"impl": impl}
        exec(
            textwrap.dedent(f"""
            class P{i}:
                @impl
                def bench(self, a, c):
                    pass
        """),
            ns,
        )
        pm.register(ns[f"P{i}"](), name=f"p{i}")
    if wrapper:

        class Wrap:
            @impl(hookwrapper=True)
            def bench(self, a):
                yield

        pm.register(Wrap(), name="wrap")
    return pm.hook.bench


def _loop(n: int):
    ns: dict = {}
    exec("\n".join(f"def h{i}(a, c):\n    pass" for i in range(n)), ns)
    fns = [ns[f"h{i}"] for i in range(n)]

    def loop(a, b, c, d):
        for f in fns:
            f(a, c)

    return loop


def run(quick: bool) -> list[Row]:
    from hookrunner import HookRunner

    rounds = 5 if quick else 21
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        manifest = _write_project(Path(tmp))
        default = HookRunner.from_files(manifest)
        lean = HookRunner.from_files(manifest, lean=True)
        bench = "emit, notify, N hooks taking 2 of 4 args"
        for n in SIZES:
            number = max(2_000, 60_000 // (n + 1)) // (4 if quick else 1)
            sides = {
                "hand-written loop": micro(f"f({KW})", {"f": _loop(n)}, number),
                "hookrunner default": micro(f"f('bench{n}', {KW})", {"f": default.emit}, number),
                "hookrunner lean": micro(f"f('bench{n}', {KW})", {"f": lean.emit}, number),
                "pluggy": micro(f"f({KW})", {"f": _pluggy(n)}, number),
            }
            got = {
                name: measure(bench, f"N={n}", name, values, "µs")
                for name, values in interleave(sides, rounds).items()
            }
            rows.extend(got.values())
            loop, ours, thin = (
                got["hand-written loop"],
                got["hookrunner default"],
                got["hookrunner lean"],
            )
            if n == 0:
                rows.append(absolute(bench, "N=0", ours, 0.3, "≤ 0.3 µs"))
            scoped = n >= 10
            rows.append(
                ratio(bench, f"N={n}", ours, loop, 2.0 if scoped else None, "≤ 2× loop (N ≥ 10)")
            )
            rows.append(
                ratio(bench, f"N={n}", thin, loop, 1.3 if scoped else None, "≤ 1.3× loop (N ≥ 10)")
            )
            rows.append(ratio(bench, f"N={n}", ours, got["pluggy"], None, "vs pluggy"))

        # One wrap-mode hook around the 10 notify hooks of an event.
        bench = "emit, one wrap hook around 10 notify hooks"
        number = 3_000 if quick else 10_000
        sides = {
            "hookrunner, no wrapper": micro(f"f('bench10', {KW})", {"f": default.emit}, number),
            "hookrunner, wrapped": micro(f"f('bench_wrap', {KW})", {"f": default.emit}, number),
            "pluggy, no wrapper": micro(f"f({KW})", {"f": _pluggy(10)}, number),
            "pluggy, hookwrapper": micro(f"f({KW})", {"f": _pluggy(10, wrapper=True)}, number),
        }
        got = {
            name: measure(bench, "10 hooks", name, values, "µs")
            for name, values in interleave(sides, rounds).items()
        }
        rows.extend(got.values())
        rows.append(
            ratio(
                bench,
                "overhead",
                got["hookrunner, wrapped"],
                got["hookrunner, no wrapper"],
                1.25,
                "≤ 1.25× (≤ +25%)",
            )
        )
        rows.append(
            ratio(
                bench,
                "overhead",
                got["pluggy, hookwrapper"],
                got["pluggy, no wrapper"],
                None,
                "pluggy's own overhead",
            )
        )
        rows.append(
            ratio(
                bench,
                "vs pluggy",
                got["hookrunner, wrapped"],
                got["pluggy, hookwrapper"],
                4.0,
                "≥ 4× faster",
                higher_is_better=True,
            )
        )
        for runner in (default, lean):
            runner.close()
    sys.modules.pop("bench_emit_hooks", None)
    return rows
