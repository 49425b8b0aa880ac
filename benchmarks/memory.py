"""Peak memory of a pipeline run above the process's baseline, per node, and a second run's.

Each side runs in a fresh process: the baseline is the resident set once everything is
imported, the peak is the process's high-water mark (``VmHWM``) after the run. The
second run is the same call again in the same process (the first run's result dropped):
what it adds to the peak is what a run leaves behind or could not reuse. Beside it, what
Kedro's ``Pipeline`` and ``DataCatalog`` of the same chain take, built and not run (running
it at this size would take hours), and libyaml's parse of the file kept alive: the data
alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import Row, absolute, ratio
from pipeline import _write

CHILD = r"""
import gc, json, sys
sys.path.insert(0, sys.argv[2])

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1])

# VmHWM is this process's own high-water mark: ru_maxrss is not, on Linux it carries over
# fork and exec the parent's resident set (the benchmark runner's, over a gigabyte by now).
rss = lambda: status("VmRSS:")
peak = lambda: status("VmHWM:")
side, k, path = sys.argv[1], int(sys.argv[3]), sys.argv[4]
if side == "hookrunner":
    from hookrunner.pipeline.lifecycle import run_pipeline
    import bench_pipe_hooks, bench_pipe_nodes
    gc.collect()
    base = rss()
    result = run_pipeline(path)
    assert result.ok and len(result.nodes_run) == k, result.error
    first = peak()
    del result
    gc.collect()
    result = run_pipeline(path)
    assert result.ok
    second = peak()
elif side == "kedro":
    import logging
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Pipeline, node
    from bench_pipe_nodes import step
    gc.collect()
    base = rss()
    pipe = Pipeline(
        [node(step, "start" if i == 0 else f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(k)]
    )
    catalog = DataCatalog({"start": MemoryDataset(0)})
    first = second = peak()
else:
    import yaml
    gc.collect()
    base = rss()
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh.read(), Loader=yaml.CSafeLoader)
    first = second = peak()
print(json.dumps({"base": base, "first": first, "second": second}))
"""


def _child(side: str, root: Path, k: int, path: Path) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, side, str(root), str(k), str(path)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child {side} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(case: str, subject: str, kb: float, unit: str = "KB") -> Row:
    return {
        "kind": "measure",
        "benchmark": "memory",
        "case": case,
        "subject": subject,
        "unit": unit,
        "median": kb,
        "min": kb,
        "max": kb,
        "rounds": 1,
    }


def run(quick: bool) -> list[Row]:
    k = 5_000 if quick else 100_000
    case = f"K={k:,}, peak above baseline per node"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = _write(root, k)
        got = {side: _child(side, root, k, path) for side in ("hookrunner", "kedro", "libyaml")}
    ours = got["hookrunner"]
    first = ours["first"] - ours["base"]
    rows = [
        _row(case, "hookrunner run_pipeline", first / k),
        _row(
            case,
            "Kedro Pipeline + DataCatalog, built",
            (got["kedro"]["first"] - got["kedro"]["base"]) / k,
        ),
        _row(
            case,
            "libyaml parse of the file",
            (got["libyaml"]["first"] - got["libyaml"]["base"]) / k,
        ),
    ]
    second = _row(
        f"K={k:,}, second run in the same process",
        "hookrunner run_pipeline",
        100 * (ours["second"] - ours["first"]) / max(first, 1),
        "%",
    )
    rows.append(second)
    rows.append(absolute("memory", case, rows[0], 3.0, "≤ 3 KB/node"))
    rows.append(ratio("memory", case, rows[0], rows[1], None, "vs Kedro (built, not run)"))
    rows.append(ratio("memory", case, rows[0], rows[2], None, "vs the parsed data alone"))
    rows.append(absolute("memory", second["case"], second, 10.0, "adds ≤ 10%"))
    return rows
