"""An agent session in the store: one session per Claude Code session, written by a process
per hook event, some at once; ``hookrunner sessions show`` lists what the agent did."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sources import source

HOOKS = source("claude_protocol_hooks")


def _hook(root, payload):
    return subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "claude", "hook"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "CLAUDE_PROJECT_DIR": str(root)},
    )


def _send(root, payload) -> str:
    proc = _hook(root, payload)
    out, err = proc.communicate(json.dumps(payload), timeout=60)
    assert proc.returncode == 0 and err == "", err
    return out


def _sessions(root, *args):
    done = subprocess.run(
        [sys.executable, "-m", "hookrunner", "sessions", *args],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _project(project):
    mod = project.module(HOOKS, prefix="cj")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: deny_rm, event: pre_tool_execution, call: {mod}:deny_rm, when: {{tool: Bash}}}}
          - {{name: branch, event: user_prompt_submit, call: {mod}:branch}}
          - {{name: boom, event: post_tool_execution, call: {mod}:boom}}
        """,
    )
    return project.root


def test_an_agent_session_lists_its_tool_uses_prompts_and_hook_outcomes(project):
    root = _project(project)
    sid = "5f0c-agent"
    base = {"session_id": sid, "transcript_path": "/t.jsonl", "cwd": str(root)}
    events = [
        {"hook_event_name": "SessionStart", "source": "startup", "model": "claude-sonnet-5"},
        {"hook_event_name": "UserPromptSubmit", "prompt": "clean the build folder"},
        {
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "rm -rf /"},
            "tool_use_id": "toolu_1",
        },
        {
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "rm build/x"},
            "tool_use_id": "toolu_2",
        },
        {
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "rm build/x"},
            "tool_response": {"stdout": ""},
            "tool_use_id": "toolu_2",
        },
        {"hook_event_name": "SessionEnd", "reason": "prompt_input_exit"},
    ]
    for e in events:
        _send(root, {**base, **e})
    shown = json.loads(_sessions(root, "show", sid, "--format", "json"))
    s = shown["session"]
    assert (s["id"], s["kind"], s["source"], s["status"]) == (sid, "agent", "claude-code", "ok")
    assert s["summary"] == {"reason": "prompt_input_exit"}
    assert shown["metadata"]["model"] == "claude-sonnet-5"
    assert shown["metadata"]["branch"] == "main"  # a hook's mapping, stored as metadata
    activity = [(a["event"], a["subject"], a["outcome"]) for a in shown["activity"]]
    assert activity == [
        ("SessionStart", "startup", "ok"),
        ("UserPromptSubmit", "clean the build folder", "context"),
        ("PreToolUse", "Bash: rm -rf /", "deny: no rm -rf here"),
        ("PreToolUse", "Bash: rm build/x", "ok"),
        ("PostToolUse", "Bash: rm build/x", "ok (1 hook failed)"),
        ("SessionEnd", "prompt_input_exit", "ok"),
    ]
    assert shown["activity"][2]["data"]["tool_use_id"] == "toolu_1"
    assert shown["activity"][4]["data"]["failed"] == 1
    calls = [(c["event"], c["hook"], c["ok"]) for c in shown["calls"]]
    assert calls == [
        ("user_prompt_submit", "branch", True),
        ("pre_tool_execution", "deny_rm", True),
        ("pre_tool_execution", "deny_rm", True),
        ("post_tool_execution", "boom", False),
    ]
    assert all(c["duration_ms"] >= 0 for c in shown["calls"])
    assert shown["calls"][3]["error"] == "RuntimeError: boom"
    text = _sessions(root, "show", sid)
    for expected in ("activity", "Bash: rm -rf /", "deny: no rm -rf here", "clean the build"):
        assert expected in text
    # A resumed session runs again under the same id.
    _send(root, {**base, "hook_event_name": "SessionStart", "source": "resume"})
    again = json.loads(_sessions(root, "show", sid, "--format", "json"))
    assert again["session"]["status"] == "running"
    assert len(json.loads(_sessions(root, "list", "--format", "json"))) == 1


def test_processes_racing_on_a_new_session_agree_on_one_row(project):
    root = _project(project)
    sid = "race-1"
    procs = []
    for i in range(8):
        payload = {
            "session_id": sid,
            "cwd": str(root),
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": f"echo {i}"},
            "tool_use_id": f"toolu_{i}",
        }
        proc = _hook(root, payload)
        proc.stdin.write(json.dumps(payload))
        procs.append(proc)
    for proc in procs:  # all eight started before any reads its input
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    sessions = json.loads(_sessions(root, "list", "--format", "json"))
    assert [(s["id"], s["calls"]) for s in sessions] == [(sid, 8)]
    shown = json.loads(_sessions(root, "show", sid, "--format", "json"))
    assert sorted(a["data"]["tool_use_id"] for a in shown["activity"]) == [
        f"toolu_{i}" for i in range(8)
    ]
    assert [c["hook"] for c in shown["calls"]] == ["deny_rm"] * 8
