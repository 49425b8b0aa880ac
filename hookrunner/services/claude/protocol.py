"""Claude Code's hook protocol: its events as ours, its input as event arguments, and the
answer it reads back (exit code, stdout JSON, stderr).

Claude Code runs a command per hook event with one JSON object on stdin and reads the
command's exit code and stdout. ``EVENTS`` is the one table of the events hookrunner answers;
``arguments`` turns an input into the event's arguments and ``answer`` turns what the hooks
did into what Claude Code expects, as its hooks reference defines it: exit 0 and a JSON
object (decisions under ``hookSpecificOutput`` for PreToolUse, a top-level ``decision`` for
the other events that can be blocked, ``additionalContext`` where the event takes context,
``systemMessage`` for what the user should see). Exit 2 is never used: hookrunner blocks
with JSON, and its own problems never block the agent.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ...kernel.errors import raised
from ...kernel.jsonsafe import json_safe
from ...kernel.runtime.results import HookResult

# How an event's hooks decide: "permission" (PreToolUse's permissionDecision), "block" (a
# top-level decision), or None (the event cannot be blocked).
PERMISSION, BLOCK = "permission", "block"
# Where returned mappings go: "mappings" (rendered into additionalContext), "explicit" (only
# text a hook gives as context: a returned string or Claude Code's own additionalContext; on
# Stop and SubagentStop context keeps the agent working, so a hook storing metadata must not
# do that by accident), or None (the event takes no context).
MAPPINGS, EXPLICIT = "mappings", "explicit"


class AgentEvent(NamedTuple):
    """One Claude Code hook event and the catalogue event it fires."""

    claude: str
    event: str
    decides: str | None
    context: str | None
    budget: float  # Claude Code's default timeout for a command hook of this event (s)
    subject: tuple[str, ...] = ()  # input fields that say what it was about (the record)
    tool: bool = False  # a tool event: tool_name, tool_input, tool_use_id


EVENTS: dict[str, AgentEvent] = {
    e.claude: e
    for e in (
        AgentEvent("PreToolUse", "pre_tool_execution", PERMISSION, MAPPINGS, 600, tool=True),
        AgentEvent("PostToolUse", "post_tool_execution", BLOCK, MAPPINGS, 600, tool=True),
        AgentEvent("PostToolUseFailure", "post_tool_failure", BLOCK, MAPPINGS, 600, tool=True),
        AgentEvent("UserPromptSubmit", "user_prompt_submit", BLOCK, MAPPINGS, 30, ("prompt",)),
        AgentEvent("SessionStart", "session_start", None, MAPPINGS, 600, ("source",)),
        AgentEvent("SessionEnd", "session_end", None, None, 1.5, ("reason",)),
        AgentEvent("Stop", "pre_session_end", BLOCK, EXPLICIT, 600, ("last_assistant_message",)),
        AgentEvent(
            "SubagentStop",
            "subagent_stop",
            BLOCK,
            EXPLICIT,
            600,
            ("agent_type", "last_assistant_message"),
        ),
        AgentEvent("PreCompact", "pre_checkpoint", BLOCK, None, 600, ("trigger",)),
        AgentEvent(
            "Notification", "notification", None, None, 600, ("notification_type", "message")
        ),
    )
}

# The fields of Claude Code's own answer; a mapping a hook returns with any of them is that
# hook's answer in Claude Code's words (how a command written for Claude Code answers).
ANSWER_KEYS = frozenset(
    {
        "decision",
        "continue",
        "stopReason",
        "systemMessage",
        "suppressOutput",
        "terminalSequence",
        "hookSpecificOutput",
    }
)
_DECISIONS = ("deny", "defer", "ask", "allow")  # PreToolUse's precedence, strongest first
SUBJECT_CHARS = 300


class Answer(NamedTuple):
    """What the command exits with and prints."""

    code: int
    stdout: str
    stderr: str


class Outcome(NamedTuple):
    """What an event's hooks did, as ``answer`` reads it."""

    results: Sequence[HookResult]  # in plan order
    vetoed: bool = False
    reason: str | None = None
    value: Any = None  # the chained argument's final value (PreToolUse: tool_input)
    raised: str | None = None  # the hook whose failure was raised (on_error: raise)
    timed_out: float | None = None  # the hooks were still running at the deadline (budget)


class Decision:
    """The answer taking shape: what each hook said, combined."""

    __slots__ = (
        "permission",
        "blocks",
        "context",
        "messages",
        "stops",
        "specific",
        "halted",
        "sequence",
    )

    def __init__(self) -> None:
        self.permission: list[tuple[str, str]] = []  # (decision, reason), PreToolUse
        self.blocks: list[str] = []  # reasons of a top-level decision: "block"
        self.context: list[str] = []  # additionalContext, in plan order
        self.messages: list[str] = []  # systemMessage lines
        self.stops: list[str] = []  # stopReason of continue: false
        self.specific: dict[str, Any] = {}  # other hookSpecificOutput fields (last wins)
        self.halted = False  # continue: false
        self.sequence: str | None = None  # terminalSequence (last wins)


def arguments(ev: AgentEvent, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The event arguments of one hook input: every field the event takes, under Claude
    Code's own name, plus the catalogue's names for what it also has (``tool_output`` is
    ``tool_response``, ``file_path`` the path a file tool works on). A field the catalogue
    does not name (one a later Claude Code adds) is left out: an emit refuses arguments its
    event does not take."""
    known = _known(ev.event)
    kw = {k: v for k, v in payload.items() if k in known}
    if ev.tool:
        tool_input = payload.get("tool_input")
        if isinstance(tool_input, Mapping):
            path = tool_input.get("file_path") or tool_input.get("notebook_path")
            if isinstance(path, str):
                kw.setdefault("file_path", path)
        if "tool_response" in payload:
            kw.setdefault("tool_output", payload["tool_response"])
    return kw


@functools.cache
def _known(event: str) -> frozenset[str]:
    from ...kernel.events import BUILTIN

    return frozenset(BUILTIN[event].all_args)


def subject(ev: AgentEvent, payload: Mapping[str, Any]) -> str | None:
    """What the event was about, in a line (``sessions show``): ``Bash: npm test``."""
    if ev.tool:
        name = str(payload.get("tool_name") or "?")
        detail = _tool_detail(payload.get("tool_input"))
        text = f"{name}: {detail}" if detail else name
    else:
        parts = [str(payload[k]) for k in ev.subject if payload.get(k) not in (None, "")]
        text = " — ".join(parts) if parts else ""
    text = " ".join(text.split())
    if len(text) > SUBJECT_CHARS:
        text = text[: SUBJECT_CHARS - 1] + "…"
    return text or None


def _tool_detail(tool_input: Any) -> str:
    if not isinstance(tool_input, Mapping):
        return ""
    for key in ("command", "file_path", "notebook_path", "pattern", "url", "query", "path"):
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            return value
    first = next((v for v in tool_input.values() if isinstance(v, str) and v), "")
    return first


def answer(
    ev: AgentEvent, payload: Mapping[str, Any], outcome: Outcome, notes: Sequence[str] = ()
) -> Answer:
    """The answer to Claude Code for ``outcome`` (``notes``: what the user should read too,
    such as an invalid manifest); exit 0 always, stdout empty when there is nothing to say."""
    d = Decision()
    d.messages.extend(notes)
    for r in outcome.results:
        if not r.ok:
            failure = f"hook {r.name!r} failed: {_error(r)}"
            if r.name == outcome.raised and ev.decides is not None:
                _refuse(ev, d, f"{failure} (on_error: raise)")  # it fails closed
            else:
                d.messages.append(f"hookrunner: {ev.event} {failure}")
        elif isinstance(r.value, str) and r.value.strip():
            d.context.append(r.value.strip())
        elif isinstance(r.value, Mapping):
            _hook_answer(ev, r.value, d)
    if outcome.vetoed:
        _refuse(ev, d, outcome.reason or "vetoed by a hook")
    if outcome.timed_out is not None:
        d.messages.append(
            f"hookrunner: {ev.event} hooks did not finish within {outcome.timed_out:g}s; "
            "Claude Code goes on as if they had not answered"
        )
    return Answer(0, _render(ev, payload, outcome, d), "")


def _error(r: HookResult) -> str:
    return raised(r.error)  # shortened: a 15 MB message does not reach the agent


def _refuse(ev: AgentEvent, d: Decision, reason: str) -> None:
    if ev.decides == PERMISSION:
        d.permission.append(("deny", reason))
    elif ev.decides == BLOCK:
        d.blocks.append(reason)


def _hook_answer(ev: AgentEvent, value: Mapping[str, Any], d: Decision) -> None:
    """Fold one hook's returned mapping in: Claude Code's answer fields when it has any (a
    hook answering in Claude Code's words), the rest as context where the event takes it."""
    plain = {k: v for k, v in value.items() if k not in ANSWER_KEYS}
    if ev.tool and ev.decides == PERMISSION:
        plain.pop("tool_input", None)  # the chained argument: the rewritten input
    own = any(k in value for k in ANSWER_KEYS)
    if own:
        plain.pop("reason", None)
        _claude_answer(ev, value, d)
    if plain and ev.context == MAPPINGS:
        d.context.append(_lines(plain))


def _claude_answer(ev: AgentEvent, value: Mapping[str, Any], d: Decision) -> None:
    reason = value.get("reason")
    decision = value.get("decision")
    if ev.decides == PERMISSION and decision in ("approve", "block"):  # the deprecated form
        d.permission.append(("allow" if decision == "approve" else "deny", str(reason or "")))
    elif ev.decides == BLOCK and decision == "block":
        d.blocks.append(str(reason or "blocked by a hook"))
    if value.get("continue") is False:
        d.halted = True
        if value.get("stopReason"):
            d.stops.append(str(value["stopReason"]))
    if value.get("systemMessage"):
        d.messages.append(str(value["systemMessage"]))
    if isinstance(value.get("terminalSequence"), str):
        d.sequence = value["terminalSequence"]
    specific = value.get("hookSpecificOutput")
    if not isinstance(specific, Mapping):
        return
    for key, item in specific.items():
        if key == "hookEventName":
            continue
        if key == "permissionDecision" and ev.decides == PERMISSION and item in _DECISIONS:
            d.permission.append((item, str(specific.get("permissionDecisionReason") or "")))
        elif key == "additionalContext":
            if ev.context is not None and isinstance(item, str) and item.strip():
                d.context.append(item.strip())
        elif key != "permissionDecisionReason":
            d.specific[key] = json_safe(item)  # e.g. updatedInput, sessionTitle: last wins


def _lines(mapping: Mapping[str, Any]) -> str:
    """A returned mapping as context: ``key: value`` lines (values that are not text as
    JSON)."""
    out = []
    for k, v in mapping.items():
        text = v if isinstance(v, str) else json.dumps(json_safe(v), ensure_ascii=False)
        out.append(f"{k}: {text}")
    return "\n".join(out)


def _render(ev: AgentEvent, payload: Mapping[str, Any], outcome: Outcome, d: Decision) -> str:
    out: dict[str, Any] = {}
    if d.halted:
        out["continue"] = False
        if d.stops:
            out["stopReason"] = "\n".join(d.stops)
    specific: dict[str, Any] = {}
    if ev.decides == BLOCK and d.blocks:
        out["decision"] = "block"
        out["reason"] = "\n".join(d.blocks)
    if ev.decides == PERMISSION:
        specific.update(d.specific)
        if d.permission:
            best = min(_DECISIONS.index(p) for p, _ in d.permission)
            decision = _DECISIONS[best]
            reasons = [r for p, r in d.permission if p == decision and r]
            specific["permissionDecision"] = decision
            if reasons:
                specific["permissionDecisionReason"] = "\n".join(reasons)
        denied = specific.get("permissionDecision") == "deny"
        value = outcome.value
        if denied:
            specific.pop("updatedInput", None)
        elif isinstance(value, Mapping) and value != payload.get("tool_input"):
            specific["updatedInput"] = json_safe(dict(value))
    elif ev.decides is not None or ev.context is not None:
        specific.update(d.specific)
    if d.context and ev.context is not None:
        specific["additionalContext"] = "\n".join(d.context)
    if specific:
        out["hookSpecificOutput"] = {"hookEventName": ev.claude, **specific}
    if d.messages:
        out["systemMessage"] = "\n".join(d.messages)
    if d.sequence is not None:
        out["terminalSequence"] = d.sequence
    return json.dumps(out, ensure_ascii=False) if out else ""


def verdict(answer_text: str) -> str:
    """What the answer decided, in a word or two and a reason (the session record)."""
    if not answer_text:
        return "ok"
    out = json.loads(answer_text)
    specific = out.get("hookSpecificOutput") or {}
    decision = specific.get("permissionDecision")
    if decision:
        reason = specific.get("permissionDecisionReason")
        return f"{decision}: {reason}" if reason else decision
    if out.get("decision") == "block":
        return f"block: {out.get('reason')}"
    if out.get("continue") is False:
        return "stop" + (f": {out['stopReason']}" if out.get("stopReason") else "")
    if "updatedInput" in specific:
        return "rewrote input"
    if "additionalContext" in specific:
        return "context"
    return "ok"
