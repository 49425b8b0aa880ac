"""Side-by-side measurement: interleaved rounds, medians with min–max, ratio rows.

Every benchmark module measures its compared sides in the same run, alternating them round by
round (A B A B ...) so that a noisy neighbour on a shared machine hurts all sides alike.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Kedro must never phone home from a benchmark.
os.environ["DO_NOT_TRACK"] = "1"
os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"

Row = dict[str, Any]
Sample = Callable[[], float]  # runs one round, returns seconds per operation


def interleave(sides: dict[str, Sample], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run each side's sample in turn, ``rounds`` times; the first ``warmup`` rounds are dropped."""
    out: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(rounds + warmup):
        for name, sample in sides.items():
            gc.collect()  # no side pays for the garbage another one left behind
            value = sample()
            if r >= warmup:
                out[name].append(value)
    return out


def micro(stmt: str, names: dict[str, Any], number: int) -> Sample:
    """A sample timing ``number`` executions of ``stmt`` (no wrapper call in the timed loop)."""
    timer = timeit.Timer(stmt, globals=names)
    return lambda: timer.timeit(number) / number


def process(
    argv: Sequence[str],
    cwd: Path | None = None,
    expect: int = 0,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> Sample:
    """A sample timing one whole process, from spawn to exit (``stdin`` piped to it, ``env``
    added to the environment)."""
    environ = dict(os.environ, PYTHONDONTWRITEBYTECODE="0", **(env or {}))

    def sample() -> float:
        t0 = timeit.default_timer()
        done = subprocess.run(argv, cwd=cwd, env=environ, input=stdin, capture_output=True)
        elapsed = timeit.default_timer() - t0
        if done.returncode != expect:
            raise RuntimeError(
                f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-2000:]}"
            )
        return elapsed

    return sample


def script(name: str) -> str:
    """A console script of this interpreter's environment (not a shell shim in front of it)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not installed beside {sys.executable}")
    return str(path)


def measure(benchmark: str, case: str, subject: str, values: list[float], unit: str) -> Row:
    """A measurement row; ``unit`` is µs or ms (values are seconds)."""
    scale = {"µs": 1e6, "ms": 1e3, "s": 1.0}[unit]
    return {
        "kind": "measure",
        "benchmark": benchmark,
        "case": case,
        "subject": subject,
        "unit": unit,
        "median": statistics.median(values) * scale,
        "min": min(values) * scale,
        "max": max(values) * scale,
        "rounds": len(values),
    }


def ratio(
    benchmark: str,
    case: str,
    ours: Row,
    peer: Row,
    limit: float | None,
    target: str,
    *,
    higher_is_better: bool = False,
) -> Row:
    """Our median over the peer's; ``holds`` compares it with ``limit`` (None: information)."""
    value = ours["median"] / peer["median"]
    if higher_is_better:
        value = 1 / value
    holds = None if limit is None else (value >= limit if higher_is_better else value <= limit)
    return {
        "kind": "ratio",
        "benchmark": benchmark,
        "case": case,
        "ours": ours["subject"],
        "peer": peer["subject"],
        "ours_median": ours["median"],
        "peer_median": peer["median"],
        "unit": ours["unit"],
        "ratio": value,
        "target": target,
        "holds": holds,
    }


def absolute(benchmark: str, case: str, ours: Row, limit: float, target: str) -> Row:
    """A target stated in absolute units (e.g. ≤ 0.3 µs per empty emit)."""
    return {
        "kind": "ratio",
        "benchmark": benchmark,
        "case": case,
        "ours": ours["subject"],
        "peer": "-",
        "ours_median": ours["median"],
        "peer_median": None,
        "unit": ours["unit"],
        "ratio": None,
        "target": target,
        "holds": ours["median"] <= limit,
    }
