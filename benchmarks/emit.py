"""Emitting an event: hookrunner (default and lean) against pluggy and a hand-written loop.

N hooks each take 2 of the event's 4 arguments. Every side is called the same way, with the
four arguments by keyword, from a ``timeit`` statement (no wrapper call in the timed loop).
A second benchmark puts one wrap-mode hook around the 10 notify hooks of an event (pluggy: one
hookwrapper around 10 implementations of a hook). Then: ``aemit`` with sync hooks against a
hand-written async loop (both awaited from one coroutine on one event loop), a default emit
whose ``results`` are read against pluggy (which returns its list of results anyway), and the
plain emit rows again while a CPU-bound competitor process runs (one slow, descheduled emit
must not change how an event is timed from then on).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from timeit import default_timer

from harness import Row, absolute, interleave, measure, micro, ratio

SIZES = (0, 1, 10, 100)
# Under a competitor process: the sizes whose timing mode could flip (1,000 hooks included).
CONTENDED = (10, 100, 1000)
KW = "a=1, b=2, c=3, d=4"


def _write_project(root: Path) -> Path:
    """A hooks module with 100 distinct functions and one manifest with every bench event."""
    funcs = "\n".join(f"def h{i}(a, c):\n    pass\n" for i in range(max(CONTENDED)))
    wrapper = "def around(original_func, a):\n    return original_func()\n"
    (root / "bench_emit_hooks.py").write_text(funcs + "\n" + wrapper)
    lines = ["version: 1", "events:"]
    sizes = sorted({*SIZES, *CONTENDED})
    for n in sizes:
        lines.append(f"  bench{n}: {{args: [a, b, c, d]}}")
    lines.append("  bench_wrap: {args: [a, b, c, d]}")
    lines.append("hooks:")
    for n in sizes:
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


def _aloop(n: int):
    ns: dict = {}
    exec("\n".join(f"def h{i}(a, c):\n    pass" for i in range(n)), ns)
    fns = [ns[f"h{i}"] for i in range(n)]

    async def loop(a, b, c, d):
        for f in fns:
            f(a, c)

    return loop


def _amicro(call, number: int, loop: asyncio.AbstractEventLoop):
    """A sample awaiting ``call()`` ``number`` times from one coroutine on ``loop``."""

    async def many() -> float:
        t0 = default_timer()
        for _ in range(number):
            await call()
        return (default_timer() - t0) / number

    return lambda: loop.run_until_complete(many())


def _competitor() -> subprocess.Popen:
    """A process that keeps one core busy until it is killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _emit_rows(bench: str, sizes, default, lean, rounds: int, quick: bool) -> list[Row]:
    rows: list[Row] = []
    for n in sizes:
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
    return rows


def run(quick: bool) -> list[Row]:
    from hookrunner import HookRunner

    rounds = 5 if quick else 21
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        manifest = _write_project(Path(tmp))
        default = HookRunner.from_files(manifest)
        lean = HookRunner.from_files(manifest, lean=True)
        bench = "emit, notify, N hooks taking 2 of 4 args"
        rows += _emit_rows(bench, SIZES, default, lean, rounds, quick)

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
        ours_over = ratio(
            bench, "overhead", got["hookrunner, wrapped"], got["hookrunner, no wrapper"], None, ""
        )
        peer_over = ratio(
            bench, "overhead", got["pluggy, hookwrapper"], got["pluggy, no wrapper"], None, ""
        )
        rows.append(dict(ours_over, target="wrapped ÷ unwrapped (info)"))
        rows.append(dict(peer_over, target="pluggy's own overhead (info)"))
        rows.append(
            {
                **ours_over,
                "case": "overhead vs pluggy's",
                "ours": "hookrunner wrapped ÷ unwrapped",
                "peer": "pluggy hookwrapper ÷ no wrapper",
                "ours_median": ours_over["ratio"],
                "peer_median": peer_over["ratio"],
                "unit": "×",
                "ratio": ours_over["ratio"] / peer_over["ratio"],
                "target": "≤ pluggy's own (ratio ≤ 1)",
                "holds": ours_over["ratio"] <= peer_over["ratio"],
            }
        )
        rows.append(
            ratio(
                bench,
                "vs pluggy",
                got["hookrunner, wrapped"],
                got["pluggy, hookwrapper"],
                5.0,
                "≥ 5× faster",
                higher_is_better=True,
            )
        )

        # aemit with sync hooks, from async code, against a hand-written async loop.
        bench = "aemit, sync hooks, awaited from one coroutine"
        aio = asyncio.new_event_loop()
        try:
            for n in (10, 100):
                number = max(2_000, 60_000 // (n + 1)) // (4 if quick else 1)
                aloop = _aloop(n)
                sides = {
                    "hand-written async loop": _amicro(
                        lambda aloop=aloop: aloop(a=1, b=2, c=3, d=4), number, aio
                    ),
                    # Bound once, event name made once: as the sync rows call emit.
                    "hookrunner aemit": _amicro(
                        lambda f=default.aemit, e=f"bench{n}": f(e, a=1, b=2, c=3, d=4),
                        number,
                        aio,
                    ),
                }
                got = {
                    name: measure(bench, f"N={n}", name, values, "µs")
                    for name, values in interleave(sides, rounds).items()
                }
                rows.extend(got.values())
                rows.append(
                    ratio(
                        bench,
                        f"N={n}",
                        got["hookrunner aemit"],
                        got["hand-written async loop"],
                        2.0,
                        "≤ 2× async loop",
                    )
                )
        finally:
            aio.close()

        # A default emit whose results are read: pluggy hands back its list of results.
        bench = "emit plus reading .results, N=10"
        number = 20_000 // (4 if quick else 1)
        sides = {
            "hookrunner default + .results": micro(
                f"f('bench10', {KW}).results", {"f": default.emit}, number
            ),
            "pluggy": micro(f"f({KW})", {"f": _pluggy(10)}, number),
        }
        got = {
            name: measure(bench, "N=10", name, values, "µs")
            for name, values in interleave(sides, rounds).items()
        }
        rows.extend(got.values())
        rows.append(
            ratio(
                bench,
                "N=10",
                got["hookrunner default + .results"],
                got["pluggy"],
                0.5,
                "≤ 0.5× pluggy",
            )
        )

        # The same emits while another process keeps a core busy: the targets do not change.
        bench = "emit under a CPU-bound competitor process"
        competitor = _competitor()
        try:
            rows += _emit_rows(bench, CONTENDED, default, lean, rounds, quick)
        finally:
            competitor.kill()
            competitor.wait()
        for runner in (default, lean):
            runner.close()
    sys.modules.pop("bench_emit_hooks", None)
    return rows
