"""Hot reload latency: from the end of a save to the new registry serving emits.

At 50 hooks, two save patterns: in place (the file is closed when the write ends) and a temp
file renamed over the manifest; at 10,000 hooks, in place. Each round flips one hook's
priority, so every save really changes the order. The clock stops when the new registry is
live (``Reload.swapped_at``, taken right after the reference swap, before the registry diff
the report carries); each round then checks that an emit is served by the new generation.
The peer is what Kedro and most hook systems need instead: a restart, i.e. a new process
loading the same manifest. At 10,000 hooks libyaml's C composer alone on the file is measured
beside them: a reload that reads the file again cannot cost less.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml
from harness import Row, absolute, measure, process, ratio

HOOKS = 50
LARGE = 10_000


def _manifest(first_priority: int, hooks: int = HOOKS) -> str:
    lines = ["version: 1", "hooks:"]
    for i in range(hooks):
        lines += [
            f"  - name: hook{i}",
            "    event: session_start",
            "    call: bench_reload_hooks:observe",
            f"    priority: {first_priority if i == 0 else 100 + i % 800}",
        ]
    return "\n".join(lines) + "\n"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _latencies(
    root: Path, rounds: int, hooks: int = HOOKS, saves: tuple[str, ...] = ("in-place", "rename")
) -> dict[str, list[float]]:
    from hookrunner import HookRunner

    path = root / "hooks.yaml"
    path.write_text(_manifest(1, hooks))
    done = threading.Event()
    stamp: list[float] = []

    def on_reload(report) -> None:
        if report.ok:
            stamp.append(report.swapped_at)
            done.set()

    out: dict[str, list[float]] = {save: [] for save in saves}
    with HookRunner.from_files(path) as runner:
        runner.watch(on_reload=on_reload)
        flip = 0
        for r in range(rounds + 2):  # two warm-up rounds
            for save in out:
                flip += 1
                text = _manifest(999 if flip % 2 else 1, hooks)
                generation = runner.generation
                done.clear()
                stamp.clear()
                # The clock starts just before the call that completes the save: taken after
                # it, the reading could wait for the GIL while the reload already runs.
                if save == "in-place":
                    fh = open(path, "w")  # noqa: SIM115 - closed below, after the stamp
                    fh.write(text)
                    fh.flush()
                    ended = time.perf_counter()
                    fh.close()
                else:
                    tmp = root / ".hooks.yaml.tmp"
                    tmp.write_text(text)
                    ended = time.perf_counter()
                    os.replace(tmp, path)
                if not done.wait(60):
                    raise RuntimeError(f"no reload after a {save} save")
                result = runner.emit("session_start")
                if result.generation <= generation:
                    raise RuntimeError("the new registry is not serving emits")
                if r >= 2:
                    out[save].append(stamp[0] - ended)
                time.sleep(0.02)  # let stray events of this save pass before the next one
    return out


def _large(root: Path, rounds: int) -> list[Row]:
    """10,000 hooks: an in-place save against a restart, with libyaml's parse beside."""
    bench = "reload_latency"
    case = f"{LARGE:,} hooks"
    got = _latencies(root, rounds, LARGE, ("in-place",))["in-place"]
    path = root / "hooks.yaml"
    restart = process(
        [
            sys.executable,
            "-c",
            "import sys; from hookrunner import HookRunner; "
            "HookRunner.from_files(sys.argv[1]).emit('session_start')",
            str(path),
        ]
    )
    restarts = [restart() for _ in range(rounds)]

    def parse() -> float:
        """libyaml's C composer alone (no Python objects per value), the collector paused."""
        gc.disable()
        try:
            t0 = time.perf_counter()
            loader = yaml.CSafeLoader(path.read_text(encoding="utf-8"))
            loader.get_single_node()
            loader.dispose()
            return time.perf_counter() - t0
        finally:
            gc.enable()

    parses = [parse() for _ in range(rounds)]
    peer = measure(bench, case, "restart (new process)", restarts, "ms")
    ours = measure(bench, case, "hookrunner in-place save", got, "ms")
    floor = measure(bench, case, "libyaml compose of the file alone", parses, "ms")
    return [
        peer,
        ours,
        floor,
        ratio(bench, f"{case}: write → serving vs restart", ours, peer, 0.2, "≤ 0.2× restart"),
        ratio(bench, f"{case}: parsing alone vs restart", floor, peer, None, "the floor"),
    ]


def run(quick: bool) -> list[Row]:
    rounds = 20 if quick else 100
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="hookrunner-reload-") as tmp:
        root = Path(tmp)
        (root / "bench_reload_hooks.py").write_text("def observe(session_id):\n    pass\n")
        got = _latencies(root, rounds)
        restart = process(
            [
                sys.executable,
                "-c",
                "import sys; from hookrunner import HookRunner; "
                "HookRunner.from_files(sys.argv[1]).emit('session_start')",
                str(root / "hooks.yaml"),
            ]
        )
        restarts = [restart() for _ in range(3 if quick else 10)]
    peer = measure("reload_latency", f"{HOOKS} hooks", "restart (new process)", restarts, "ms")
    rows.append(peer)
    for save, values in got.items():
        row = measure("reload_latency", f"{save} save, {HOOKS} hooks", "hookrunner", values, "ms")
        row["p95"] = _p95(values) * 1e3
        rows.append(row)
        p95 = dict(row, median=row["p95"])
        rows.append(absolute("reload_latency", f"{save} save p50", row, 20.0, "p50 ≤ 20 ms"))
        rows.append(absolute("reload_latency", f"{save} save p95", p95, 50.0, "p95 ≤ 50 ms"))
        rows.append(ratio("reload_latency", f"{save} save vs restart", row, peer, None, "info"))
    with tempfile.TemporaryDirectory(prefix="hookrunner-reload-") as tmp:
        root = Path(tmp)
        (root / "bench_reload_hooks.py").write_text("def observe(session_id):\n    pass\n")
        rows += _large(root, 2 if quick else 5)
    sys.modules.pop("bench_reload_hooks", None)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for row in run("--quick" in sys.argv):
        print(row)
