import sys
import time

from hookrunner import Veto

SEEN = []


def deny_rm(tool_input):
    if "rm -rf" in tool_input.get("command", ""):
        raise Veto("no rm -rf here")


def refuse(tool_name):
    return False


def ask_push(tool_input):
    if "git push" in tool_input.get("command", ""):
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "ask",
                "permissionDecisionReason": "pushing: are you sure?",
            }
        }


def allow(tool_name):
    return {"hookSpecificOutput": {"permissionDecision": "allow"}}


def quiet_tests(tool_input):
    if tool_input.get("command") == "npm test":
        return {"tool_input": {**tool_input, "command": "npm test --silent"}}


def echo_input(tool_input):
    return {"seen_command": tool_input["command"]}


def branch():
    return {"branch": "main"}


def issues():
    return {"open_issues": [12, 14]}


def note(tool_name):
    return f"{tool_name} failed before: try again with --verbose"


def block_prompt(prompt):
    if "password" in prompt:
        return {"decision": "block", "reason": "prompts must not contain passwords"}


def keep_going(stop_hook_active):
    if not stop_hook_active:
        return "run the test suite before finishing"


def store_summary(last_assistant_message):
    return {"summary": last_assistant_message[:20]}


def block_stop(agent_type):
    return {"decision": "block", "reason": f"{agent_type} must list its sources"}


def no_compact(trigger):
    if trigger == "auto":
        raise Veto("compact by hand only")


def notified(message, notification_type):
    return {"last_notification": notification_type}


def boom(tool_name):
    raise RuntimeError("boom")


def slow(tool_name):
    time.sleep(30)


def chatty(tool_name):
    print("hello from a hook")
    print("to stderr too", file=sys.stderr)
    return {"chatty": True}


def ended(reason, session_id):
    return {"ended_because": reason}


def broken_notice(message):
    raise RuntimeError("boom")


def auth(tool_name, token):
    raise ValueError(f"auth failed for {token}")
