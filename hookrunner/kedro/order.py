"""One order for a Kedro event: the manifest's hooks around Kedro's own.

Kedro calls an event's implementations in pluggy's order (the last registered first, within
tryfirst / normal / trylast). hookrunner leaves that order alone and places the whole of it,
``settings.py``'s ``HOOKS`` and the installed plugins' hooks, as **one declaration at priority
500, declared before the manifest**, then applies its one rule: tryfirst hooks, then by
priority (ties in declaration order), then trylast hooks. So a manifest hook that is
``tryfirst`` or has a priority below 500 runs before every Kedro hook of the event; one at
500 or above (the default) or ``trylast`` runs after them. ``hookrunner run`` with ``plugins:
{kedro: true}`` places Kedro's plugins the same way (ahead of default-priority hooks).

Kedro's events are the pipeline group of the catalogue (``after_context_created`` ... the
dataset events); under ParallelRunner the node and dataset events fire only in the worker
processes.
"""

from __future__ import annotations

from ..kernel.events import CATALOGUE
from ..kernel.runtime.hook import Hook, State
from ..kernel.runtime.plan import Plan

KEDRO_PRIORITY = 500
KEDRO_EVENTS = tuple(e.name for e in CATALOGUE if e.group == "pipeline")
# The events ParallelRunner fires in its workers (Kedro's Task), never in the driver.
WORKER_EVENTS = tuple(
    name
    for name in KEDRO_EVENTS
    if name.endswith(("_node_run", "_node_error", "_loaded", "_saved"))
)


def before_kedro(hook: Hook) -> bool:
    """Whether ``hook`` runs before Kedro's own implementations of its event."""
    return hook.rank == 0 or (hook.rank == 1 and hook.priority < KEDRO_PRIORITY)


def split(plan: Plan, state: State | None = None) -> tuple[Plan, Plan]:
    """``plan``'s hooks as two plans, the part before Kedro's implementations and the part
    after, in the plan's order (``state``: the runtime state they report to)."""
    hooks = plan.hooks
    first = tuple(h for h in hooks if before_kedro(h))
    rest = tuple(h for h in hooks if not before_kedro(h))
    state = state or plan.state
    return (
        Plan(plan.spec, first, plan.generation, state, plan.exact),
        Plan(plan.spec, rest, plan.generation, state, plan.exact),
    )
