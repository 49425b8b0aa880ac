"""Hooks: ProjectHooks is registered by settings.py as Kedro does it; the rest are named in
conf/base/hooks.yaml (a hooks class and plain functions: hookrunner passes each the event
arguments it names)."""

import json
import logging
from pathlib import Path
from time import perf_counter

from kedro.framework.hooks import hook_impl

log = logging.getLogger(__name__)


class ProjectHooks:
    """settings.py's HOOKS: left as they are."""

    @hook_impl
    def before_node_run(self, node):
        log.info("settings.py hook: %s starts", node.name)


class NodeTimer:
    """Times every node; writes the times when the pipeline ends."""

    def __init__(self, report):
        self.report = Path(report)
        self.started = {}
        self.seconds = {}

    @hook_impl
    def before_node_run(self, node):
        self.started[node.name] = perf_counter()

    @hook_impl
    def after_node_run(self, node):
        self.seconds[node.name] = round(perf_counter() - self.started.pop(node.name), 6)

    @hook_impl
    def after_pipeline_run(self):
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text(json.dumps(self.seconds, indent=2, sort_keys=True) + "\n")


def require_rows(dataset_name, data):
    if not data:
        raise ValueError(f"{dataset_name} is empty: nothing to report on")


def audit(node, outputs, log):
    path = Path(log)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write(json.dumps({"node": node.name, "outputs": sorted(outputs)}) + "\n")
