"""Hooks for tests/kedro: the manifest's functions and hooks class, and the project's
``settings.py`` hooks class, each appending what it saw as a JSON line to $KEDRO_HOOKS_LOG
(with the process id: ParallelRunner's workers write there too)."""

import json
import os
import sys
import time

from kedro.framework.hooks import hook_impl

_MANAGER = []  # the session's hook manager, as the settings hooks saw it


def record(label, **fields):
    line = json.dumps({"label": label, "pid": os.getpid(), **fields}, default=str)
    with open(os.environ["KEDRO_HOOKS_LOG"], "a") as fh:
        fh.write(line + "\n")


# ----------------------------------------------------------------- the manifest's hooks
def mark(node, label):
    record(label, node=node.name)


def outputs(node, outputs, label):
    record(label, node=node.name, outputs=outputs)


def seen(dataset_name, label):
    record(label, dataset=dataset_name)


def override(node):
    """A before_node_run hook that replaces an input of the node (Kedro's contract)."""
    return {"params:factor": 10}


def flaky(node, token):
    raise RuntimeError(f"upstream refused token {token}")


def breaker(node):
    record("breaker", node=node.name)
    raise ValueError("breaker trips")


def slow(node):
    time.sleep(3)


def handler(error, hook, event):
    record("handler", hook=hook.name, event=event, error=type(error).__name__)


def session(label, session_id):
    record(label, session_id=session_id)


def context(context, label):
    record(label, env=context.env, project=str(context.project_path))


def leak(error, token):
    """An on_node_error hook whose own failure carries a value from the environment."""
    raise RuntimeError(f"alerting failed with token {token}")


def errored(error_info):
    record("post_error", error_info=error_info)


def pipeline(run_params, label):
    record(label, run_id=run_params["run_id"])


class Counter:
    """A Kedro hooks class in the manifest (class:), with a constructor argument."""

    def __init__(self, label):
        self.label = label
        self.calls = 0

    @hook_impl
    def after_node_run(self, node):
        self.calls += 1
        record(self.label, node=node.name, calls=self.calls)


# ----------------------------------------------------------------- settings.py's hooks
class SettingsHooks:
    @hook_impl
    def after_context_created(self, context):
        _MANAGER[:] = [context._hook_manager]
        record("settings.after_context_created")

    @hook_impl
    def before_node_run(self, node):
        record("settings", node=node.name)

    @hook_impl
    def after_pipeline_run(self):
        manager = _MANAGER[0]
        impls = {}
        for event in ("after_context_created", "before_pipeline_run", "before_node_run"):
            caller = getattr(manager.hook, event)
            impls[event] = [manager.get_name(i.plugin) for i in caller.get_hookimpls()]
        loaded = sorted(m for m in sys.modules if m.startswith("hookrunner"))
        record("settings.after_pipeline_run", impls=impls, modules=loaded)
