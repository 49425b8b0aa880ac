"""What a ``kedro run`` driver hands to ParallelRunner's worker processes.

Kedro's ParallelRunner runs each node in a process of its pool, with a hook manager made
there (``settings.py``'s ``HOOKS`` and the installed plugins, registered again), so hooks
fire in the worker but nothing the driver built reaches it. When the manifest opts in
(``settings.kedro.workers``), the driver puts one environment variable in place for the
run: the manifests' paths (or, when they are not local files, the conf source and
environment to find them again through the project's config loader), the switches, the
session and its store. Worker processes inherit it, under
``fork``, ``spawn`` and ``forkserver`` alike, and rebuild the manifest from the files.

Only paths and names travel: a worker reads ``${env:}`` values from its own environment.
"""

from __future__ import annotations

import os
from typing import Any

VARIABLE = "HOOKRUNNER_KEDRO_RUN"


class Handoff:
    """The handoff as a worker reads it (a plain class: every ``kedro run`` imports this
    module, and a NamedTuple costs more to define than the rest of it)."""

    __slots__ = (
        "text",
        "driver",
        "files",
        "conf_source",
        "env",
        "switches",
        "session",
        "store",
        "events",
    )

    def __init__(
        self,
        text: str,  # the variable's value, as read (the worker's cache key)
        driver: int,  # the driver's pid: the driver itself never acts as a worker
        files: tuple[str, ...] | None,  # the manifests' paths; None: not local, find them
        conf_source: str,
        env: str | None,
        switches: dict[str, bool],
        session: str,
        store: str,
        events: tuple[str, ...],  # the worker events the manifest has hooks for (or records)
    ):
        self.text, self.driver, self.files = text, driver, files
        self.conf_source, self.env, self.switches = conf_source, env, switches
        self.session, self.store, self.events = session, store, events


def encode(**fields: Any) -> str:
    import json

    return json.dumps({"driver": os.getpid(), **fields}, sort_keys=True)


_cache: tuple[str, Handoff | None] | None = None


def current() -> Handoff | None:
    """The handoff of the run this process is a worker of, or None (not a worker of a run
    that opted in). Read once per value: pluggy asks at every node."""
    global _cache
    text = os.environ.get(VARIABLE)
    if not text:
        return None
    cached = _cache
    if cached is not None and cached[0] == text:
        return cached[1]
    handoff = _parse(text)
    _cache = (text, handoff)
    return handoff


def _parse(text: str) -> Handoff | None:
    import json
    import multiprocessing

    try:
        data = json.loads(text)
        handoff = Handoff(
            text,
            int(data["driver"]),
            None if data.get("files") is None else tuple(str(f) for f in data["files"]),
            str(data["conf_source"]),
            data.get("env"),
            {str(k): bool(v) for k, v in dict(data.get("switches") or {}).items()},
            str(data["session"]),
            str(data["store"]),
            tuple(str(e) for e in data.get("events") or ()),
        )
    except (ValueError, KeyError, TypeError):
        return None
    # A worker is a child process of a multiprocessing pool, not the driver itself.
    if handoff.driver == os.getpid() or multiprocessing.parent_process() is None:
        return None
    return handoff
