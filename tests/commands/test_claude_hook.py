"""``hookrunner claude hook`` as Claude Code runs it: a process per event, the documented hook
input on stdin (a pipe, no TTY), ``CLAUDE_PROJECT_DIR`` set; exit code, stdout and stderr
exactly as Claude Code's hooks reference defines them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from sources import source

HOOKS = source("claude_protocol_hooks")

# Claude Code's documented inputs, one per event we answer (cwd is filled per test).
INPUTS = {
    "PreToolUse": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {
            "command": "npm test",
            "description": "Run test suite",
            "timeout": 120000,
            "run_in_background": False,
        },
        "tool_use_id": "toolu_01ABC123",
    },
    "PostToolUse": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "permission_mode": "default",
        "hook_event_name": "PostToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": "/path/to/file.txt", "content": "file content"},
        "tool_response": {"filePath": "/path/to/file.txt", "success": True},
        "tool_use_id": "toolu_01ABC123",
        "duration_ms": 12,
    },
    "PostToolUseFailure": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "permission_mode": "default",
        "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash",
        "tool_input": {"command": "npm test", "description": "Run test suite"},
        "tool_use_id": "toolu_01ABC123",
        "error": "Exit code 1\nError: Cannot find module 'express'",
        "is_interrupt": False,
        "duration_ms": 4187,
    },
    "UserPromptSubmit": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "permission_mode": "default",
        "hook_event_name": "UserPromptSubmit",
        "prompt": "Write a function to calculate the factorial of a number",
    },
    "SessionStart": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "hook_event_name": "SessionStart",
        "source": "startup",
        "model": "claude-sonnet-5",
    },
    "SessionEnd": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "hook_event_name": "SessionEnd",
        "reason": "other",
    },
    "Stop": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "permission_mode": "default",
        "hook_event_name": "Stop",
        "stop_hook_active": False,
        "last_assistant_message": "I've completed the refactoring. Here's a summary...",
        "background_tasks": [],
        "session_crons": [],
    },
    "SubagentStop": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/abc123.jsonl",
        "permission_mode": "default",
        "hook_event_name": "SubagentStop",
        "stop_hook_active": False,
        "agent_id": "def456",
        "agent_type": "Explore",
        "agent_transcript_path": "/home/user/.claude/projects/p/abc123/subagents/agent-def456.jsonl",
        "last_assistant_message": "Analysis complete. Found 3 potential issues...",
        "background_tasks": [],
        "session_crons": [],
    },
    "PreCompact": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "hook_event_name": "PreCompact",
        "trigger": "manual",
        "custom_instructions": "",
    },
    "Notification": {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/transcript.jsonl",
        "hook_event_name": "Notification",
        "message": "Claude needs your permission",
        "title": "Permission needed",
        "notification_type": "permission_prompt",
    },
}


class Agent:
    """A project Claude Code works in: its hooks.yaml, and the hook command as Claude runs it."""

    def __init__(self, project):
        self.project = project
        self.root = project.root
        self.mod = project.module(HOOKS, prefix="cc")

    def hooks(self, entries: str, extra: str = "") -> None:
        body = entries.replace("M:", f"{self.mod}:")
        self.project.write("hooks.yaml", f"version: 1\n{extra}hooks:\n{body}")

    def input(self, event: str, **fields) -> dict:
        return {**INPUTS[event], "cwd": str(self.root), **fields}

    def run(self, payload, *args: str, env=None, raw: str | None = None, timeout: float = 60):
        environ = {**os.environ, "CLAUDE_PROJECT_DIR": str(self.root), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "hookrunner", "claude", "hook", *args],
            input=json.dumps(payload) if raw is None else raw,
            capture_output=True,
            text=True,
            cwd=self.root,
            env=environ,
            timeout=timeout,
        )

    def answer(self, event: str, *args: str, **fields) -> tuple[int, object, str]:
        """(exit code, stdout parsed as JSON or "" when empty, stderr)."""
        done = self.run(self.input(event, **fields), *args)
        out = json.loads(done.stdout) if done.stdout.strip() else done.stdout
        return done.returncode, out, done.stderr

    def store(self, *args: str):
        done = subprocess.run(
            [sys.executable, "-m", "hookrunner", "sessions", *args, "--format", "json"],
            capture_output=True,
            text=True,
            cwd=self.root,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def agent(project):
    return Agent(project)


def specific(event: str, **fields) -> dict:
    return {"hookSpecificOutput": {"hookEventName": event, **fields}}


# --------------------------------------------------------------------------- every event


@pytest.mark.parametrize("event", sorted(INPUTS))
def test_every_documented_input_is_answered_with_nothing_to_say(agent, event):
    """No hook for the event (another event has one): exit 0, empty stdout and stderr."""
    agent.hooks("  - {name: other, event: post_file_edit, call: M:branch}\n")
    assert agent.answer(event) == (0, "", "")


# --------------------------------------------------------------------------- PreToolUse


def test_a_veto_denies_the_tool_with_its_reason(agent):
    agent.hooks(
        "  - {name: deny_rm, event: pre_tool_execution, call: M:deny_rm, when: {tool: Bash}}\n"
    )
    rm = {**INPUTS["PreToolUse"]["tool_input"], "command": "rm -rf /"}
    assert agent.answer("PreToolUse", tool_input=rm) == (
        0,
        specific(
            "PreToolUse", permissionDecision="deny", permissionDecisionReason="no rm -rf here"
        ),
        "",
    )
    # `when: {tool: Bash}`: the same command from another tool is not this hook's business.
    assert agent.answer("PreToolUse", tool_name="Read", tool_input=rm) == (0, "", "")
    assert agent.answer("PreToolUse") == (0, "", "")  # npm test: allowed, nothing to say


def test_a_hook_returning_false_denies_and_stops_the_rest(agent):
    agent.hooks(
        "  - {name: refuse, event: pre_tool_execution, call: M:refuse, priority: 1}\n"
        "  - {name: later, event: pre_tool_execution, call: M:ask_push, priority: 2}\n"
    )
    push = {"command": "git push"}
    assert agent.answer("PreToolUse", tool_input=push) == (
        0,
        specific(
            "PreToolUse", permissionDecision="deny", permissionDecisionReason="vetoed by refuse"
        ),
        "",
    )


def test_ask_and_the_precedence_of_decisions(agent):
    agent.hooks(
        "  - {name: allow, event: pre_tool_execution, call: M:allow, priority: 1}\n"
        "  - {name: ask_push, event: pre_tool_execution, call: M:ask_push, priority: 2}\n"
    )
    push = {"command": "git push origin main"}
    assert agent.answer("PreToolUse", tool_input=push) == (
        0,
        specific(
            "PreToolUse",
            permissionDecision="ask",
            permissionDecisionReason="pushing: are you sure?",
        ),
        "",
    )
    assert agent.answer("PreToolUse") == (0, specific("PreToolUse", permissionDecision="allow"), "")


def test_a_rewritten_tool_input_becomes_updated_input_and_later_hooks_see_it(agent):
    agent.hooks(
        "  - {name: quiet, event: pre_tool_execution, call: M:quiet_tests, priority: 1}\n"
        "  - {name: echo, event: pre_tool_execution, call: M:echo_input, priority: 2}\n"
    )
    new = {**INPUTS["PreToolUse"]["tool_input"], "command": "npm test --silent"}
    assert agent.answer("PreToolUse") == (
        0,
        specific(
            "PreToolUse", updatedInput=new, additionalContext="seen_command: npm test --silent"
        ),
        "",
    )
    # A veto wins over a rewrite: the tool does not run, so there is no input to update.
    agent.hooks(
        "  - {name: quiet, event: pre_tool_execution, call: M:quiet_tests, priority: 1}\n"
        "  - {name: refuse, event: pre_tool_execution, call: M:refuse, priority: 2}\n"
    )
    code, out, _ = agent.answer("PreToolUse")
    assert out == specific(
        "PreToolUse", permissionDecision="deny", permissionDecisionReason="vetoed by refuse"
    )


def test_mappings_of_notify_hooks_become_context_in_plan_order(agent):
    agent.hooks(
        # Declared in the other order: priority decides (the plan order).
        "  - {name: issues, event: pre_tool_execution, call: M:issues, priority: 20}\n"
        "  - {name: branch, event: pre_tool_execution, call: M:branch, priority: 10}\n"
    )
    assert agent.answer("PreToolUse") == (
        0,
        specific("PreToolUse", additionalContext="branch: main\nopen_issues: [12, 14]"),
        "",
    )


# --------------------------------------------------------------------------- other events


def test_post_tool_use_context_and_block(agent):
    agent.hooks(
        "  - {name: branch, event: post_tool_execution, call: M:branch, when: {tool: Write}}\n"
    )
    assert agent.answer("PostToolUse") == (
        0,
        specific("PostToolUse", additionalContext="branch: main"),
        "",
    )
    assert agent.answer("PostToolUse", tool_name="Edit") == (0, "", "")


def test_post_tool_use_failure_gets_the_returned_text_as_context(agent):
    agent.hooks("  - {name: note, event: post_tool_failure, call: M:note}\n")
    assert agent.answer("PostToolUseFailure") == (
        0,
        specific(
            "PostToolUseFailure", additionalContext="Bash failed before: try again with --verbose"
        ),
        "",
    )


def test_user_prompt_submit_block_and_context(agent):
    agent.hooks(
        "  - {name: block, event: user_prompt_submit, call: M:block_prompt}\n"
        "  - {name: branch, event: user_prompt_submit, call: M:branch}\n"
    )
    assert agent.answer("UserPromptSubmit") == (
        0,
        specific("UserPromptSubmit", additionalContext="branch: main"),
        "",
    )
    code, out, err = agent.answer("UserPromptSubmit", prompt="my password is hunter2")
    assert (code, err) == (0, "")
    assert out == {
        "decision": "block",
        "reason": "prompts must not contain passwords",
        **specific("UserPromptSubmit", additionalContext="branch: main"),
    }


def test_session_start_context_matches_its_source(agent):
    agent.hooks(
        "  - {name: branch, event: session_start, call: M:branch, when: {source: startup}}\n"
    )
    assert agent.answer("SessionStart") == (
        0,
        specific("SessionStart", additionalContext="branch: main"),
        "",
    )
    assert agent.answer("SessionStart", source="resume") == (0, "", "")


def test_stop_continues_only_on_an_explicit_answer(agent):
    # A mapping on Stop is metadata, never context: context would keep Claude working.
    agent.hooks(
        "  - {name: summary, event: pre_session_end, call: M:store_summary}\n"
        "  - {name: keep_going, event: pre_session_end, call: M:keep_going}\n"
    )
    assert agent.answer("Stop") == (
        0,
        specific("Stop", additionalContext="run the test suite before finishing"),
        "",
    )
    assert agent.answer("Stop", stop_hook_active=True) == (0, "", "")
    assert agent.store("show", "abc123")["metadata"]["summary"] == "I've completed the r"


def test_subagent_stop_block(agent):
    agent.hooks(
        "  - {name: sources, event: subagent_stop, call: M:block_stop, when: {agent_type: Explore}}\n"
    )
    assert agent.answer("SubagentStop") == (
        0,
        {"decision": "block", "reason": "Explore must list its sources"},
        "",
    )
    assert agent.answer("SubagentStop", agent_type="Plan") == (0, "", "")


def test_pre_compact_veto_blocks_compaction(agent):
    agent.hooks("  - {name: manual, event: pre_checkpoint, call: M:no_compact}\n")
    assert agent.answer("PreCompact", trigger="auto") == (
        0,
        {"decision": "block", "reason": "compact by hand only"},
        "",
    )
    assert agent.answer("PreCompact") == (0, "", "")


def test_notification_and_session_end_take_no_context(agent):
    agent.hooks(
        "  - {name: notified, event: notification, call: M:notified,"
        " when: {notification_type: permission_prompt}}\n"
        "  - {name: ended, event: session_end, call: M:ended}\n"
    )
    assert agent.answer("Notification") == (0, "", "")
    assert agent.answer("SessionEnd") == (0, "", "")
    shown = agent.store("show", "abc123")
    assert shown["metadata"]["last_notification"] == "permission_prompt"
    assert shown["metadata"]["ended_because"] == "other"
    assert shown["session"]["status"] == "ok"  # SessionEnd closed it
    assert sorted(h["hook"] for h in shown["hooks"]) == ["ended", "notified"]


# --------------------------------------------------------------------------- failures


def test_a_failing_hook_is_reported_and_blocks_nothing(agent):
    agent.hooks(
        "  - {name: boom, event: pre_tool_execution, call: M:boom}\n"
        "  - {name: branch, event: pre_tool_execution, call: M:branch}\n"
    )
    assert agent.answer("PreToolUse") == (
        0,
        {
            **specific("PreToolUse", additionalContext="branch: main"),
            "systemMessage": "hookrunner: pre_tool_execution hook 'boom' failed: RuntimeError: boom",
        },
        "",
    )


@pytest.mark.parametrize("on_error", ["continue", "raise"])
def test_a_secret_never_reaches_the_answer_or_the_store(agent, on_error):
    """A value from the environment that a hook's error (and the tool's command) quotes is
    masked in what Claude reads and in every row the session store keeps."""
    secret = "s3cr3t-token-value-42"
    agent.hooks(
        f"  - {{name: boom, event: pre_tool_execution, call: M:auth, on_error: {on_error},\n"
        '      with: {token: "${env:CC_TOKEN}"}}\n'
    )
    command = {**INPUTS["PreToolUse"]["tool_input"], "command": f"echo {secret}"}
    done = agent.run(agent.input("PreToolUse", tool_input=command), env={"CC_TOKEN": secret})
    assert done.returncode == 0, done.stderr
    assert "auth failed for <from env>" in done.stdout
    assert secret not in done.stdout + done.stderr
    stored = b"".join(p.read_bytes() for p in (agent.root / ".hookrunner").glob("sessions.db*"))
    assert stored and b"Bash: echo <from env>" in stored
    assert secret.encode() not in stored


def test_a_failing_hook_with_on_error_raise_fails_closed(agent):
    agent.hooks(
        "  - {name: boom, event: pre_tool_execution, call: M:boom, on_error: raise}\n"
        "  - {name: branch, event: pre_tool_execution, call: M:branch}\n"
    )
    assert agent.answer("PreToolUse") == (
        0,
        specific(
            "PreToolUse",
            permissionDecision="deny",
            permissionDecisionReason="hook 'boom' failed: RuntimeError: boom (on_error: raise)",
        ),
        "",
    )
    # Where Claude Code cannot block, the failure is reported instead.
    agent.hooks("  - {name: boom, event: notification, call: M:broken_notice, on_error: raise}\n")
    assert agent.answer("Notification") == (
        0,
        {"systemMessage": "hookrunner: notification hook 'boom' failed: RuntimeError: boom"},
        "",
    )


def test_a_hook_timeout_is_reported_and_the_tool_proceeds(agent):
    agent.hooks(
        "  - {name: slow, event: pre_tool_execution, call: M:slow, timeout: 300ms}\n"
        "  - {name: branch, event: pre_tool_execution, call: M:branch}\n"
    )
    assert agent.answer("PreToolUse") == (
        0,
        {
            **specific("PreToolUse", additionalContext="branch: main"),
            "systemMessage": "hookrunner: pre_tool_execution hook 'slow' failed: HookTimeout: "
            "hook 'slow' timed out after 0.3s (abandoned)",
        },
        "",
    )


def test_the_answer_comes_before_claude_codes_own_timeout(agent):
    """Hooks without a timeout of their own still answer within the command's budget."""
    agent.hooks("  - {name: slow, event: pre_tool_execution, call: M:slow}\n")
    t0 = time.monotonic()
    done = agent.run(agent.input("PreToolUse"), "--timeout", "2")
    elapsed = time.monotonic() - t0
    assert (done.returncode, json.loads(done.stdout), done.stderr) == (
        0,
        {
            "systemMessage": "hookrunner: pre_tool_execution hooks did not finish within 2s; "
            "Claude Code goes on as if they had not answered"
        },
        "",
    )
    assert elapsed < 20  # the hook sleeps 30 s; the answer came at about 1.8 s
    activity = agent.store("show", "abc123")["activity"]
    assert [a["outcome"] for a in activity] == ["timed out"]


def test_a_slow_hook_module_cannot_make_the_answer_late(agent, project):
    slow = project.module(source("claude_slow_import"), prefix="slow")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: b, event: session_start, call: {slow}:branch}}\n",
    )
    t0 = time.monotonic()
    done = agent.run(agent.input("SessionStart"), "--timeout", "2")
    assert time.monotonic() - t0 < 20  # the import sleeps 30 s
    assert (done.returncode, json.loads(done.stdout), done.stderr) == (
        0,
        {
            "systemMessage": "hookrunner: session_start hooks did not finish within 2s; "
            "Claude Code goes on as if they had not answered"
        },
        "",
    )


def test_what_hooks_print_never_reaches_the_answer(agent):
    agent.hooks(
        "  - {name: chatty, event: pre_tool_execution, call: M:chatty}\n"
        "  - {name: deny, event: pre_tool_execution, call: M:refuse, priority: 600}\n"
    )
    done = agent.run(agent.input("PreToolUse"))
    assert json.loads(done.stdout) == specific(
        "PreToolUse",
        permissionDecision="deny",
        permissionDecisionReason="vetoed by deny",
        additionalContext="chatty: true",
    )
    assert done.stderr == "hello from a hook\nto stderr too\n"  # the debug log's business


def test_command_hooks_answer_like_claude_code_commands(agent, project):
    guard = project.write(
        "guard.py",
        """
        import json, sys
        data = json.load(sys.stdin)
        command = data["tool_input"]["command"]
        if command.startswith("curl"):
            print("no network from here", file=sys.stderr)
            sys.exit(2)
        if command.startswith("git push"):
            print(json.dumps({"hookSpecificOutput": {"permissionDecision": "ask"}}))
        """,
    )
    agent.hooks(
        "  - name: guard\n"
        "    event: pre_tool_execution\n"
        f"    command: [{json.dumps(sys.executable)}, {json.dumps(str(guard))}]\n"
    )
    assert agent.answer("PreToolUse", tool_input={"command": "curl x"}) == (
        0,
        specific(
            "PreToolUse", permissionDecision="deny", permissionDecisionReason="no network from here"
        ),
        "",
    )
    assert agent.answer("PreToolUse", tool_input={"command": "git push"}) == (
        0,
        specific("PreToolUse", permissionDecision="ask"),
        "",
    )
    assert agent.answer("PreToolUse") == (0, "", "")


# --------------------------------------------------------------------------- manifests


def column(agent, word: str) -> int:
    """The column of ``word`` in the manifest's third line (module names vary in length)."""
    return (agent.root / "hooks.yaml").read_text().splitlines()[2].index(word) + 1


def test_an_invalid_manifest_is_named_with_its_position_and_the_agent_goes_on(agent):
    agent.hooks("  - {name: deny, event: pre_tool_execution, call: M:refuse, priority: 2000}\n")
    col = column(agent, "2000")
    assert agent.answer("PreToolUse") == (
        0,
        {
            "systemMessage": "hookrunner: hooks.yaml is invalid, so no hooks run until it is "
            f"fixed:\nhooks.yaml:3:{col}: hooks[0] 'deny' → priority: must be between 0 and "
            "1000, got 2000"
        },
        "",
    )


def test_the_last_valid_manifest_keeps_running_while_an_edit_is_invalid(agent):
    agent.hooks("  - {name: deny, event: pre_tool_execution, call: M:refuse}\n")
    denied = specific(
        "PreToolUse", permissionDecision="deny", permissionDecisionReason="vetoed by deny"
    )
    assert agent.answer("PreToolUse")[1] == denied
    agent.hooks("  - {name: deny, event: pre_tool_execution, call: M:refuse, priority: high}\n")
    code, out, err = agent.answer("PreToolUse")
    assert (code, err) == (0, "")
    message = out.pop("systemMessage")
    assert out == denied  # the last valid hooks still guard the agent
    head, problem = message.split("\n")
    assert head.startswith("hookrunner: hooks.yaml is invalid; the last valid version (saved ")
    assert head.endswith(" UTC) runs until it is fixed:")
    col = column(agent, "high")
    assert problem == (
        f"hooks.yaml:3:{col}: hooks[0] 'deny' → priority: expected an integer, got a string"
    )
    agent.hooks("  - {name: branch, event: pre_tool_execution, call: M:branch}\n")  # fixed
    assert agent.answer("PreToolUse") == (
        0,
        specific("PreToolUse", additionalContext="branch: main"),
        "",
    )


def test_manifests_are_found_from_the_project_or_given(agent, project):
    project.write(
        "agent/hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: branch, event: session_start, call: {agent.mod}:branch}}\n",
    )
    # No hooks.yaml in the project: said once, at the session's start.
    assert agent.answer("PreToolUse") == (0, "", "")
    code, out, err = agent.answer("SessionStart")
    assert (code, err) == (0, "")
    assert out["systemMessage"].startswith(f"hookrunner: no hooks.yaml in {agent.root}: ")
    assert agent.answer("SessionStart", "--hooks", "agent/hooks.yaml") == (
        0,
        specific("SessionStart", additionalContext="branch: main"),
        "",
    )


def test_input_that_is_not_a_hook_input(agent):
    agent.hooks("  - {name: branch, event: session_start, call: M:branch}\n")
    done = agent.run(None, raw="not json")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("hookrunner: stdin is not a Claude Code hook input: invalid JSON")
    assert done.stderr.count("\n") == 1
    unknown = {**INPUTS["SessionStart"], "hook_event_name": "PermissionRequest"}
    done = agent.run(unknown)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "hookrunner: no catalogue event for 'PermissionRequest'; nothing ran\n"
    odd = {**INPUTS["SessionStart"], "hook_event_name": ["SessionStart"]}  # not a name
    done = agent.run(odd)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "hookrunner: no catalogue event for ['SessionStart']; nothing ran\n"
    # A typo in settings.json's command is Claude Code's non-blocking error, never exit 2.
    done = agent.run(INPUTS["SessionStart"], "--hook", "x.yaml")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "hookrunner: claude hook takes --hooks PATH and --timeout SECONDS, not: --hook x.yaml\n"
    )


def test_the_typer_command_answers_as_the_plain_path(agent):
    agent.hooks("  - {name: deny, event: pre_tool_execution, call: M:refuse}\n")
    plain = agent.run(agent.input("PreToolUse"))
    typer = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from hookrunner.commands.app import main; sys.exit(main(sys.argv[1:]))",
            "claude",
            "hook",
        ],
        input=json.dumps(agent.input("PreToolUse")),
        capture_output=True,
        text=True,
        cwd=agent.root,
        env={**os.environ, "CLAUDE_PROJECT_DIR": str(agent.root)},
        timeout=60,
    )
    assert (typer.returncode, typer.stdout, typer.stderr) == (
        plain.returncode,
        plain.stdout,
        plain.stderr,
    )
    helped = agent.run(None, "--help", raw="")
    assert helped.returncode == 0 and "--timeout" in helped.stdout
