"""Hooks for the quick start: plain functions and a Kedro-style class, each naming only the
event arguments it needs."""

import sys
import time

from hookrunner import Veto

ALLOWED_PRIORITIES = {"low", "medium", "high"}
REQUIRED_COLUMNS = {"order_id", "customer", "region", "amount"}


# --------------------------------------------------------------- host-application hooks (app.py)
def greet(session_id, metadata):
    print(f"[hook] session {session_id} started by {metadata.get('user', 'someone')}")
    return {"greeted": True}


def guard_tools(tool_name, tool_input):
    if tool_name == "shell" and "rm -rf" in str(tool_input):
        raise Veto("refusing to run 'rm -rf'")


def audit(tool_name, tool_output):
    print(f"[hook] audit: {tool_name} -> {tool_output!r}")


def validate_metadata(original_func, action, session_id, metadata=None):
    """A wrap hook: refuses a bad `priority`, and logs what a pipeline run records."""
    if action == "update" and metadata and "priority" in metadata:
        if metadata["priority"] not in ALLOWED_PRIORITIES:
            raise Veto(f"priority must be one of {sorted(ALLOWED_PRIORITIES)}")
    result = original_func()
    if action == "update" and metadata and "status" in metadata:
        print(f"[wrap] session {session_id} recorded status={metadata['status']}")
    return result


# --------------------------------------------------------------- pipeline hooks (pipeline.yaml)
class Timing:
    """Times every node, like a Kedro hooks class would (and runs unmodified under Kedro)."""

    def __init__(self):
        self.started = {}
        self.times = {}

    def before_node_run(self, node):
        self.started[node.name] = time.perf_counter()

    def after_node_run(self, node):
        self.times[node.name] = (time.perf_counter() - self.started.pop(node.name)) * 1e3

    def after_pipeline_run(self):
        for name, ms in self.times.items():
            print(f"[timing] {name}: {ms:.2f} ms")


def validate_orders(dataset_name, data):
    """Input validation: stop the run before a node sees rows without the expected columns."""
    if not data:
        raise ValueError(f"{dataset_name} is empty")
    missing = REQUIRED_COLUMNS - set(data[0])
    if missing:
        raise ValueError(f"{dataset_name} lacks column(s): {', '.join(sorted(missing))}")


def alert(error, run_params):
    """Error alert: swap this for hookrunner.builtin.aws:sns_publish to page someone."""
    print(f"[ALERT] run {run_params['run_id']} failed: {error}", file=sys.stderr)


def announce_saved(dataset_name, data):
    print(f"[hook] {dataset_name} saved: revenue {data['revenue']} {data['currency']}")
