"""A Tab: ``hookrunner``'s shell completion as a whole process, for each kind of value.

The shell starts ``hookrunner`` on every Tab, so what counts is the whole process: event
names (the catalogue plus a manifest's custom events), node names (read from the pipeline
file) and session ids (read from the store), against ``python -c pass``. Target: a reply in
under 150 ms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

from harness import Row, absolute, interleave, measure, ratio, script

CASES = {
    "event names": "hookrunner emit ",
    "node names": "hookrunner run pipeline.yaml --nodes ",
    "session ids": "hookrunner sessions show ",
}


def _write(root: Path) -> None:
    (root / "bench_nodes.py").write_text("def step(x=None):\n    return 1\n")
    (root / "hooks.yaml").write_text("version: 1\nevents:\n  model_promoted: {args: [name]}\n")
    nodes = "".join(
        f"  - {{name: step{i}, func: bench_nodes:step, outputs: out{i}}}\n" for i in range(50)
    )
    (root / "pipeline.yaml").write_text("version: 1\nnodes:\n" + nodes)
    subprocess.run([script("hookrunner"), "run", "pipeline.yaml", "--quiet"], cwd=root, check=True)


def _tab(line: str, root: Path):
    words = line.split()
    env = dict(
        os.environ,
        COMP_WORDS=line,
        COMP_CWORD=str(len(words)),
        _HOOKRUNNER_COMPLETE="complete_bash",
    )
    argv = [script("hookrunner")]

    def sample() -> float:
        t0 = timeit.default_timer()
        done = subprocess.run(argv, cwd=root, env=env, capture_output=True)
        elapsed = timeit.default_timer() - t0
        if done.returncode != 0 or not done.stdout.strip():
            raise RuntimeError(f"completion of {line!r} failed: {done.stderr.decode()[-2000:]}")
        return elapsed

    return sample


def run(quick: bool) -> list[Row]:
    rounds = 5 if quick else 21
    bench = "shell completion (a Tab), whole process"
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root)
        bare = [sys.executable, "-c", "pass"]
        sides = {case: _tab(line, root) for case, line in CASES.items()}
        sides["python -c pass"] = lambda: _time(bare, root)
        got = {
            name: measure(bench, name, name, values, "ms")
            for name, values in interleave(sides, rounds).items()
        }
    rows.extend(got.values())
    for case in CASES:
        rows.append(absolute(bench, case, got[case], 150.0, "≤ 150 ms"))
        rows.append(ratio(bench, case, got[case], got["python -c pass"], None, "vs bare python"))
    return rows


def _time(argv: list[str], root: Path) -> float:
    t0 = timeit.default_timer()
    subprocess.run(argv, cwd=root, capture_output=True, check=True)
    return timeit.default_timer() - t0
