"""A pipeline run: a chain of K trivial nodes, one hooks class, memory datasets.

hookrunner runs ``pipeline.yaml`` through ``run_pipeline`` with the session store on (every
hook call and checkpoint lands in SQLite). One call is split at the plan (files loaded and
validated): loading (from the call to the plan) and the run phase (from the plan to the
return), as Kedro's ``SequentialRunner.run`` alone; the whole call is compared with Kedro too.
Kedro runs the same chain with its ``SequentialRunner``, a ``DataCatalog`` of
``MemoryDataset``s and the same hooks class registered on its hook manager. Loading is shown
beside what parsing the same file with libyaml alone costs (``yaml.load``, the C loader):
the least any YAML-configured runner pays. The figures are wall time per node. Kedro is not
run at K=10,000: its per-node cost grows with K (about 2.6× from K=1,000 to K=3,000 here)
and the run would take minutes, so K=10,000 is compared with its K=1,000 figure, which
flatters Kedro.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path
from timeit import default_timer

import yaml
from harness import Row, absolute, interleave, measure, ratio

HOOKS_SOURCE = '''
class Hooks:
    """Counts nodes the way a typical project hooks class would."""

    def __init__(self):
        self.nodes = 0

    def before_node_run(self, node, inputs):
        self.nodes += 1

    def after_node_run(self, node, outputs):
        pass
'''

NODES_SOURCE = """
def step(x):
    return x + 1
"""


def _write(root: Path, k: int) -> Path:
    (root / "bench_pipe_hooks.py").write_text(HOOKS_SOURCE)
    (root / "bench_pipe_nodes.py").write_text(NODES_SOURCE)
    (root / "hooks.yaml").write_text(
        "version: 1\nhooks:\n  - {name: project, class: bench_pipe_hooks:Hooks}\n"
    )
    lines = ["version: 1", "manifests: [hooks.yaml]", "params: {start: 0}", "nodes:"]
    for i in range(k):
        source = "params:start" if i == 0 else f"d{i}"
        lines.append(
            f"  - {{name: n{i}, func: bench_pipe_nodes:step, inputs: [{source}], outputs: d{i + 1}}}"
        )
    path = root / f"pipeline_{k}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _ours(path: Path, k: int, whole: list[float], loading: list[float]):
    """Per node, from the run's plan (files loaded and validated) to ``run_pipeline``'s
    return: nodes, hooks, checkpoints and the session store's writes. The whole call goes to
    ``whole``, the part before the plan to ``loading``."""
    from hookrunner.pipeline.lifecycle import run_pipeline

    def sample() -> float:
        planned: list[float] = []

        def progress(kind: str, node: object, seconds: float) -> None:
            if kind == "plan":
                planned.append(default_timer())

        t0 = default_timer()
        result = run_pipeline(path, progress=progress)
        end = default_timer()
        if not result.ok or len(result.nodes_run) != k:
            raise RuntimeError(f"pipeline run failed: {result.error}")
        whole.append((end - t0) / k)
        loading.append((planned[0] - t0) / k)
        return (end - planned[0]) / k

    return sample


def _libyaml(path: Path, k: int):
    """Per node: reading and parsing the pipeline file with libyaml, nothing else."""

    def sample() -> float:
        t0 = default_timer()
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh.read(), Loader=yaml.CSafeLoader)
        elapsed = default_timer() - t0
        assert len(data["nodes"]) == k
        return elapsed / k

    return sample


def _by_hand(root: Path, k: int):
    """Per node: the least a runner with our run's bookkeeping could cost, written by hand
    for this one chain. The node order, the hooks and the SQL are fixed in advance; each
    node gets its two hook calls and its function call, each timed with one clock reading,
    as ours are; every call and every node becomes a row in a real SQLite file, 32 rows to
    a statement, committed at the end. No files, validation, matching, policies or
    checkpoints: the floor under the run phase, not a competitor."""
    import sqlite3

    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench_pipe_hooks import Hooks
    from bench_pipe_nodes import step

    db = root / "by_hand.db"
    names = [f"n{i}" for i in range(k)]

    def sample() -> float:
        db.unlink(missing_ok=True)
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE calls (node TEXT, hook TEXT, start REAL, ms REAL)")
        con.execute("CREATE TABLE nodes (node TEXT, start REAL, ms REAL)")
        insert_call = "INSERT INTO calls VALUES (?, ?, ?, ?)"
        insert_node = "INSERT INTO nodes VALUES (?, ?, ?)"
        hooks = Hooks()
        before, after = hooks.before_node_run, hooks.after_node_run
        clock = default_timer
        t0 = clock()
        calls: list[tuple[str, str, float, float]] = []
        done: list[tuple[str, float, float]] = []
        value = 0
        for name in names:
            a = clock()
            before(name, {"x": value})
            b = clock()
            value = step(value)
            c = clock()
            after(name, {"out": value})
            d = clock()
            calls.append((name, "before_node_run", a, b - a))
            calls.append((name, "after_node_run", c, d - c))
            done.append((name, b, c - b))
            if len(done) == 32:
                con.executemany(insert_call, calls)
                con.executemany(insert_node, done)
                calls.clear()
                done.clear()
        con.executemany(insert_call, calls)
        con.executemany(insert_node, done)
        con.commit()
        elapsed = clock() - t0
        con.close()
        return elapsed / k

    return sample


def _kedro(k: int):
    from kedro.framework.hooks.manager import _create_hook_manager
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Pipeline, node
    from kedro.runner import SequentialRunner

    if _kedro.root not in sys.path:  # type: ignore[attr-defined]
        sys.path.insert(0, _kedro.root)  # type: ignore[attr-defined]
    from bench_pipe_hooks import Hooks
    from bench_pipe_nodes import step
    from kedro.framework.hooks import hook_impl

    class KedroHooks(Hooks):
        before_node_run = hook_impl(Hooks.before_node_run)
        after_node_run = hook_impl(Hooks.after_node_run)

    logging.getLogger("kedro").setLevel(logging.WARNING)  # no per-node log lines
    pipeline = Pipeline(
        [node(step, "start" if i == 0 else f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(k)]
    )

    def sample() -> float:
        hooks = _create_hook_manager()
        hooks.register(KedroHooks())
        catalog = DataCatalog({"start": MemoryDataset(0)})
        t0 = default_timer()
        SequentialRunner().run(pipeline, catalog, hooks)
        return (default_timer() - t0) / k

    return sample


def run(quick: bool) -> list[Row]:
    # Five rounds at the larger K: with three, one slow spell of a shared machine moves the
    # median (Kedro's 1.5 s rounds at K=1,000 dominate the time either way).
    plan = {50: (5 if quick else 9, True), 1_000: (1 if quick else 5, True)}
    plan[10_000] = (1 if quick else 5, False)
    bench = "pipeline run, chain of K trivial nodes, session store on"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _kedro.root = tmp  # type: ignore[attr-defined]
        per_k: dict[int, Row] = {}
        kedro: dict[int, Row] = {}
        for k, (rounds, with_kedro) in plan.items():
            path = _write(root, k)
            whole: list[float] = []
            loading: list[float] = []
            sides = {
                "hookrunner run phase": _ours(path, k, whole, loading),
                "libyaml parse alone": _libyaml(path, k),
                "hand-written run": _by_hand(root, k),
            }
            if with_kedro:
                sides["Kedro SequentialRunner.run"] = _kedro(k)
            got = {
                name: measure(bench, f"K={k:,}", name, values, "µs")
                for name, values in interleave(sides, rounds).items()
            }
            for name, values in (
                ("hookrunner load + validate", loading),
                ("hookrunner whole run_pipeline", whole),
            ):
                got[name] = measure(bench, f"K={k:,}", name, values[1:], "µs")
            rows.extend(got.values())
            ours = got["hookrunner run phase"]
            per_k[k] = ours
            if with_kedro:
                kedro[k] = got["Kedro SequentialRunner.run"]
            limit, target = (15.0, "≤ 15 µs/node") if k < 1_000 else (8.0, "≤ 8 µs/node")
            rows.append(absolute(bench, f"K={k:,} run phase", ours, limit, target))
            load = got["hookrunner load + validate"]
            row = absolute(bench, f"K={k:,} load + validate", load, 15.0, "≤ 15 µs/node")
            rows.append(row if k == 1_000 else dict(row, target="info", holds=None))
            rows.append(
                ratio(
                    bench,
                    f"K={k:,} load + validate",
                    load,
                    got["libyaml parse alone"],
                    None,
                    "vs parsing the file alone (the floor)",
                )
            )
            rows.append(
                ratio(
                    bench,
                    f"K={k:,} run phase",
                    ours,
                    got["hand-written run"],
                    None,
                    "vs a hand-written run with the same rows (the floor)",
                )
            )
            if k >= 1_000:
                peer = kedro.get(k) or kedro[1_000]
                floor = dict(
                    got["hand-written run"],
                    subject="libyaml parse + hand-written run",
                    median=got["libyaml parse alone"]["median"] + got["hand-written run"]["median"],
                )
                rows.append(
                    ratio(
                        bench,
                        f"K={k:,} whole run, the floor",
                        floor,
                        peer,
                        None,
                        "how much cheaper than Kedro the floor is",
                        higher_is_better=True,
                    )
                )
                case = f"K={k:,} whole run" + ("" if k in kedro else " (Kedro at K=1,000)")
                rows.append(
                    ratio(
                        bench,
                        case,
                        got["hookrunner whole run_pipeline"],
                        peer,
                        50.0,
                        "≥ 50× cheaper than Kedro's run alone",
                        higher_is_better=True,
                    )
                )
            if with_kedro:
                rows.append(
                    ratio(
                        bench,
                        f"K={k:,} run phase",
                        ours,
                        got["Kedro SequentialRunner.run"],
                        None,
                        "vs Kedro",
                    )
                )
        rows.append(
            ratio(bench, "flat in K", per_k[10_000], per_k[50], None, "µs/node K=10,000 / K=50")
        )
    for name in ("bench_pipe_hooks", "bench_pipe_nodes"):
        sys.modules.pop(name, None)
    while tmp in sys.path:
        sys.path.remove(tmp)
    return rows
