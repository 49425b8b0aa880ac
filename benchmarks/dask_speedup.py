"""Dask runner: 8 independent CPU-bound nodes on a 2-worker local cluster vs the sequential runner.

Each node burns 0.5 s of its own thread's CPU time in pure Python (``time.thread_time``, so
the work is the same whatever else the machine runs; ``--quick`` burns 20 ms so CI only
checks the benchmark still runs). Both runners run the
same pipeline file through ``run_pipeline`` with a hooks class on the node events and the
session store on; the figure is the run phase (from the plan to the return), interleaved
round by round. The cluster is started once, outside the timing, and reached with
``address=`` as a real deployment would; connecting a client is inside the timing.

The same run with ``workers=2`` and no address starts a local cluster of its own, as
``hookrunner run --runner dask --workers 2`` does; the run reports that start apart
(``RunResult.startup_s``, the summary's ``workers:`` line), and the rows show the run phase
with it and without it.

Per-node overhead is measured apart, on 16 independent nodes that do nothing: the run phase
divided by the node count, for each runner (for Dask this includes shipping the task, the
worker's hooks and the report back, and the driver's round trip between dependent steps).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from timeit import default_timer

from harness import Row, interleave, measure, ratio
from pipeline import HOOKS_SOURCE  # the same hooks class as the pipeline benchmark

NODES_SOURCE = """
import time


def burn(seconds):
    start = time.thread_time()
    total = 0
    while time.thread_time() - start < seconds:
        for i in range(1000):
            total += i * i % 7
    return total


def noop(x):
    return x
"""


def _write(root: Path, name: str, func: str, count: int, work: float) -> Path:
    lines = ["version: 1", "manifests: [hooks.yaml]", f"params: {{n: {work}}}", "nodes:"]
    for i in range(count):
        lines.append(
            f"  - {{name: w{i}, func: bench_dask_nodes:{func}, inputs: 'params:n', outputs: r{i}}}"
        )
    path = root / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _side(path: Path, count: int, per_node: bool, startups: list | None = None, **options):
    from hookrunner.pipeline.lifecycle import run_pipeline

    def sample() -> float:
        planned: list[float] = []

        def progress(kind: str, node: object, seconds: float) -> None:
            if kind == "plan":
                planned.append(default_timer())

        result = run_pipeline(path, progress=progress, **options)
        end = default_timer()
        if not result.ok or len(result.nodes_run) != count:
            raise RuntimeError(f"pipeline run failed: {result.error}")
        took = end - planned[0]
        if startups is not None:
            startups.append(result.startup_s)
        return took / count if per_node else took

    return sample


def run(quick: bool) -> list[Row]:
    from distributed import LocalCluster

    # Kedro, imported by earlier benchmarks, routes the root logger to rich at INFO: keep
    # the clusters' start and shutdown chatter out of the report.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    bench = "dask runner, 8 independent CPU-bound nodes, 2-worker local cluster"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bench_dask_nodes.py").write_text(NODES_SOURCE)
        (root / "bench_dask_hooks.py").write_text(HOOKS_SOURCE)
        (root / "hooks.yaml").write_text(
            "version: 1\nhooks:\n  - {name: project, class: bench_dask_hooks:Hooks}\n"
        )
        work = 0.02 if quick else 0.5
        burn = _write(root, "burn", "burn", 8, work)
        noop = _write(root, "noop", "noop", 16, 0)
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.WARNING,
        )
        try:
            address = cluster.scheduler_address
            case = f"8 × {work:g} s"
            got = interleave(
                {
                    "sequential runner": _side(burn, 8, False),
                    "dask runner": _side(burn, 8, False, runner="dask", address=address),
                },
                rounds=1 if quick else 3,
                warmup=0 if quick else 1,
            )
            measured = {name: measure(bench, case, name, v, "s") for name, v in got.items()}
            # Its own local cluster of 2 workers, started by the run (--workers 2).
            startups: list[float] = []
            own = interleave(
                {
                    "dask runner --workers 2": _side(
                        burn, 8, False, startups, runner="dask", workers=2
                    )
                },
                rounds=1 if quick else 3,
                warmup=0 if quick else 1,
            )["dask runner --workers 2"]
            startups = startups[len(startups) - len(own) :]
            measured["dask runner --workers 2"] = measure(
                bench, case, "dask runner --workers 2", own, "s"
            )
            measured["--workers 2: the cluster's start"] = measure(
                bench, case, "--workers 2: the cluster's start (reported)", startups, "s"
            )
            measured["--workers 2: without the start"] = measure(
                bench,
                case,
                "--workers 2: the run without the start",
                [t - s for t, s in zip(own, startups, strict=True)],
                "s",
            )
            rows.extend(measured.values())
            rows.append(
                ratio(
                    bench,
                    case,
                    measured["dask runner"],
                    measured["sequential runner"],
                    None if quick else 1.7,
                    "speed-up ≥ 1.7×",
                    higher_is_better=True,
                )
            )
            for name in ("dask runner --workers 2", "--workers 2: without the start"):
                rows.append(
                    ratio(
                        bench,
                        f"{case}, {name}",
                        measured[name],
                        measured["sequential runner"],
                        None,
                        "speed-up (info)",
                        higher_is_better=True,
                    )
                )
            overhead = interleave(
                {
                    "sequential runner": _side(noop, 16, True),
                    "dask runner": _side(noop, 16, True, runner="dask", address=address),
                },
                rounds=1 if quick else 3,
                warmup=0 if quick else 1,
            )
            per_node = "per-node overhead (16 no-op nodes)"
            over = {name: measure(bench, per_node, name, v, "ms") for name, v in overhead.items()}
            rows.extend(over.values())
            rows.append(
                ratio(
                    bench,
                    per_node,
                    over["dask runner"],
                    over["sequential runner"],
                    None,
                    "dask / sequential",
                )
            )
        finally:
            cluster.close()
    for name in ("bench_dask_nodes", "bench_dask_hooks"):
        sys.modules.pop(name, None)
    if tmp in sys.path:
        sys.path.remove(tmp)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    for row in run("--quick" in sys.argv):
        print(row)
