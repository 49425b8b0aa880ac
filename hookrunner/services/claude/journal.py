"""Recording an agent's hook calls in the session store, one process at a time.

Claude Code starts a process per hook event, so a session is written by many short processes,
sometimes at once (hooks of parallel tool calls). Each one joins the session (the first opens
it; ``Store.join`` inserts the row only if it is missing, so racing processes agree on one
row; SessionStart reopens a resumed one), appends its hook calls and one activity row (the
tool use, prompt or notification, with what the hooks decided), and SessionEnd closes it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from ...kernel.runtime.results import EmitResult
from ..sessions.store import Activity, Store, dumps
from .protocol import ANSWER_KEYS, AgentEvent, subject, verdict

KIND, SOURCE = "agent", "claude-code"


def metadata(ev: AgentEvent, payload: Mapping[str, Any]) -> dict[str, Any]:
    """What the session row keeps of the agent (SessionStart says more than other events)."""
    keys = ["cwd", "transcript_path", "permission_mode"]
    if ev.claude == "SessionStart":
        keys += ["source", "model", "agent_type"]
    meta: dict[str, Any] = {"agent": SOURCE}
    meta.update((k, payload[k]) for k in keys if payload.get(k) is not None)
    return meta


def record(
    store: Store,
    ev: AgentEvent,
    payload: Mapping[str, Any],
    observed: Sequence[EmitResult],
    answer_text: str,
    duration_ms: float,
    data: dict[str, Any],
) -> None:
    """Write one hook call of the session ``payload["session_id"]`` (nothing without one)."""
    sid = payload.get("session_id")
    if not isinstance(sid, str) or not sid:
        return
    now = time.time()
    store.join(sid, KIND, SOURCE, metadata(ev, payload), reopen=ev.claude == "SessionStart")
    rows = [row for result in observed for row in result.rows(now)]
    changes = _changes(ev, observed)
    end = ("ok", {"reason": payload.get("reason")}) if ev.claude == "SessionEnd" else None
    store.flush(sid, rows, [], end=end, metadata=changes or None)
    failed = sum(1 for r in rows if not r.ok)
    if data.get("timed_out"):
        outcome = "timed out"
    elif data.get("invalid") and not data.get("fallback"):
        outcome = "hooks off: invalid manifest"
    else:
        outcome = verdict(answer_text)
    if failed:
        outcome += f" ({failed} hook{'s' if failed > 1 else ''} failed)"
    store.add_activity(
        sid,
        [
            Activity(
                now,
                ev.claude,
                subject(ev, payload),
                outcome,
                duration_ms,
                {**data, "event": ev.event, "hooks": len(rows), "failed": failed}
                | ({"tool_use_id": payload["tool_use_id"]} if payload.get("tool_use_id") else {}),
            )
        ],
    )


def _changes(ev: AgentEvent, observed: Sequence[EmitResult]) -> dict[str, str]:
    """What the hooks' returned mappings add to the session's metadata (as JSON): the
    chained argument and Claude Code's answer fields are not metadata."""
    out: dict[str, str] = {}
    for result in observed:
        for key, value in result.changes.items():
            if key not in ANSWER_KEYS and not (ev.tool and key == "tool_input"):
                out[str(key)] = dumps(value)
    if any(k in ANSWER_KEYS for r in observed for k in r.changes):
        out.pop("reason", None)
    return out
