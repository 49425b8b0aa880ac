"""The runners ``--runner`` names: ``RUNNERS`` (register another ``Runner`` subclass here)."""

from __future__ import annotations

from typing import Any

from ..kernel.errors import did_you_mean
from .dask_runner import DaskRunner
from .runners import Runner, SequentialRunner, ThreadRunner

RUNNERS: dict[str, type[Runner]] = {
    SequentialRunner.name: SequentialRunner,
    ThreadRunner.name: ThreadRunner,
    DaskRunner.name: DaskRunner,  # it imports Dask only when it runs
}


def make_runner(name: str, workers: int | None = None, **options: Any) -> Runner:
    """A runner by name; ValueError with the known names otherwise."""
    try:
        cls = RUNNERS[name]
    except KeyError:
        hint = did_you_mean(name, RUNNERS)
        raise ValueError(
            f"unknown runner {name!r} (choose from: {', '.join(RUNNERS)})"
            + (f"; {hint}" if hint else "")
        ) from None
    return cls(workers=workers, **options)
