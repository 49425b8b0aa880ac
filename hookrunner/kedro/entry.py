"""The ``kedro.hooks`` entry point: the object Kedro's auto-discovery registers everywhere.

Kedro loads every installed plugin's entry point into each session's hook manager (and,
under ParallelRunner, into the manager each worker makes for each node). pluggy reads an
object's implementations from its class, so ``hooks`` (what the entry point names, looked up
anew at each load) is one of two objects holding exactly what they implement:

- in a session, ``ENTRY``: one ``after_context_created``, a tryfirst wrapper that asks the
  context's config loader for the project's manifests (``locate``: two folder lookups) and
  returns when there are none. Only when there are is the rest of hookrunner imported
  (``bridge``). A project without ``conf/<env>/hooks.yaml`` gets this one call and nothing
  else;
- in a ParallelRunner worker of a run whose manifest opted in (``handoff``), the manifest's
  node and dataset hooks, rebuilt in that process (``workers``).

This module imports nothing heavier than pluggy (Kedro's own dependency, loaded already).
A project switches it off as any plugin: ``DISABLE_HOOKS_FOR_PLUGINS = ("hookrunner",)``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pluggy import HookimplMarker

from . import handoff

_impl = HookimplMarker("kedro")  # what ``kedro.framework.hooks.hook_impl`` is


class KedroEntry:
    """hookrunner's hooks object in a Kedro session's hook manager."""

    @_impl(wrapper=True, tryfirst=True)
    def after_context_created(self, context: Any) -> Generator[None, Any, Any]:
        from .locate import sources

        found = sources(getattr(context, "config_loader", None))
        if not found:
            return (yield)
        from .bridge import attach

        around = attach(context, found)
        if around is None:  # invalid: the run is refused at before_pipeline_run
            return (yield)
        return (yield from around.run({"context": context}))

    def __repr__(self) -> str:
        return "<hookrunner.kedro entry point>"


ENTRY = KedroEntry()


def __getattr__(name: str) -> Any:
    """``hooks``, what the entry point names, looked up each time Kedro loads it: in a
    worker of a run that handed its manifest off, the manifest's worker hooks; otherwise
    the entry object (pluggy reads hook implementations statically, so each process gets an
    object whose class holds exactly what it implements)."""
    if name != "hooks":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    run = handoff.current()
    if run is None:
        return ENTRY
    from .workers import worker_hooks

    return worker_hooks(run)
