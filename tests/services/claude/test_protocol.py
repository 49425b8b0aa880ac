"""Claude Code's protocol table and answers, in process (the commands' tests run it whole)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hookrunner.kernel.events import AGENT_ARGS, BUILTIN
from hookrunner.kernel.runtime.results import HookResult
from hookrunner.services.claude.protocol import EVENTS, Outcome, answer, arguments, subject

README = Path(__file__).resolve().parents[3] / "README.md"


def _ok(name, value):
    return HookResult(name, True, None, 0.1, value)


def _answer(event, *results, payload=None, **outcome):
    reply = answer(EVENTS[event], payload or {}, Outcome(list(results), **outcome))
    assert (reply.code, reply.stderr) == (0, "")
    return json.loads(reply.stdout) if reply.stdout else None


def test_every_mapped_event_is_in_the_catalogue_with_the_agent_fields():
    for ev in EVENTS.values():
        spec = BUILTIN[ev.event]
        assert spec.group == "session"
        assert set(AGENT_ARGS.split()) <= set(spec.all_args), ev.event
        assert all(k in spec.all_args for k in ev.subject), ev.event
    assert {"post_tool_failure", "notification", "subagent_stop"} <= set(BUILTIN)


def test_input_fields_the_event_does_not_take_are_left_out():
    # Claude Code adds fields over time; an emit refuses arguments its event does not take.
    payload = {"session_id": "s1", "tool_name": "Bash", "tool_input": {"command": "ls"}}
    kw = arguments(EVENTS["PreToolUse"], {**payload, "a_field_from_the_future": 1})
    assert kw == {**payload}
    spec = BUILTIN["pre_tool_execution"]
    assert set(kw) <= set(spec.all_args)


def test_the_readme_table_is_the_protocol_table():
    text = README.read_text()
    section = text[text.index("### Events and arguments") : text.index("### How hooks answer")]
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)`", section, re.M)
    assert rows == [(ev.claude, ev.event) for ev in EVENTS.values()]


def test_decisions_combine_as_claude_code_combines_commands():
    ask = {"hookSpecificOutput": {"permissionDecision": "ask", "permissionDecisionReason": "a?"}}
    allow = {
        "hookSpecificOutput": {"permissionDecision": "allow", "permissionDecisionReason": "ok"}
    }
    old_block = {"decision": "block", "reason": "old style"}
    assert _answer("PreToolUse", _ok("a", allow), _ok("b", ask)) == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "ask",
            "permissionDecisionReason": "a?",
        }
    }
    # PreToolUse's deprecated top-level decision: block is deny, and deny wins.
    assert _answer("PreToolUse", _ok("a", ask), _ok("b", old_block)) == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": "old style",
        }
    }


def test_claude_code_fields_are_passed_on_and_kept_out_of_context():
    said = {
        "continue": False,
        "stopReason": "build broke",
        "systemMessage": "see the log",
        "reason": "not context",
        "hookSpecificOutput": {"sessionTitle": "auth", "additionalContext": "branch: x"},
        "ticket": "T-1",
    }
    assert _answer("SessionStart", _ok("a", said)) == {
        "continue": False,
        "stopReason": "build broke",
        "hookSpecificOutput": {
            "hookEventName": "SessionStart",
            "sessionTitle": "auth",
            "additionalContext": "branch: x\nticket: T-1",
        },
        "systemMessage": "see the log",
    }
    # Events without decisions or context drop what they cannot take.
    bell = {**said, "terminalSequence": "\x07"}
    assert _answer("Notification", _ok("a", bell)) == {
        "continue": False,
        "stopReason": "build broke",
        "systemMessage": "see the log",
        "terminalSequence": "\x07",
    }


@pytest.mark.parametrize("event", ["Stop", "SubagentStop"])
def test_stop_takes_only_explicit_context(event):
    assert _answer(event, _ok("a", {"summary": "done"})) is None
    assert _answer(event, _ok("a", "run the tests first")) == {
        "hookSpecificOutput": {"hookEventName": event, "additionalContext": "run the tests first"}
    }


def test_a_rewrite_is_not_updated_input_when_denied_or_unchanged():
    original = {"command": "ls"}
    payload = {"tool_input": original}
    assert _answer("PreToolUse", payload=payload, value=dict(original)) is None
    assert _answer("PreToolUse", payload=payload, value={"command": "ls -a"}) == {
        "hookSpecificOutput": {"hookEventName": "PreToolUse", "updatedInput": {"command": "ls -a"}}
    }
    denied = _answer(
        "PreToolUse", payload=payload, value={"command": "ls -a"}, vetoed=True, reason="no"
    )
    assert "updatedInput" not in denied["hookSpecificOutput"]


def test_arguments_add_the_catalogue_names():
    payload = {
        "hook_event_name": "PostToolUse",
        "tool_name": "Edit",
        "tool_input": {"file_path": "/p/a.py", "old_string": "x"},
        "tool_response": {"ok": True},
    }
    kw = arguments(EVENTS["PostToolUse"], payload)
    assert kw["file_path"] == "/p/a.py" and kw["tool_output"] == {"ok": True}
    assert kw["tool_response"] == {"ok": True}
    assert subject(EVENTS["PostToolUse"], payload) == "Edit: /p/a.py"
    long = {"hook_event_name": "UserPromptSubmit", "prompt": "word " * 200}
    text = subject(EVENTS["UserPromptSubmit"], long)
    assert len(text) == 300 and text.endswith("…")
