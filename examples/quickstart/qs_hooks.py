"""Hooks for the quick-start manifest: plain functions that name the arguments they need."""

from hookrunner import Veto

ALLOWED_PRIORITIES = {"low", "medium", "high"}


def greet(session_id, metadata):
    print(f"[hook] session {session_id} started by {metadata.get('user', 'someone')}")
    return {"greeted": True}


def guard_tools(tool_name, tool_input):
    if tool_name == "shell" and "rm -rf" in str(tool_input):
        raise Veto("refusing to run 'rm -rf'")


def audit(tool_name, tool_output):
    print(f"[hook] audit: {tool_name} -> {tool_output!r}")


def validate_metadata(original_func, action, session_id, metadata=None):
    if action == "update" and metadata and metadata.get("priority") not in ALLOWED_PRIORITIES:
        raise Veto(f"priority must be one of {sorted(ALLOWED_PRIORITIES)}")
    return original_func()
