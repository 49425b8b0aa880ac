"""Pipelines: a YAML file of nodes, a catalog and parameters, run with the full lifecycle.

The names below are imported on first use, so that importing one module of this package
(``hookrunner validate`` reads ``spec``) does not import the run machinery.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import Catalog
    from .context import RunContext, RunOptions, RunResult
    from .graph import Node, Pipeline
    from .lifecycle import run
    from .runner_choice import RUNNERS
    from .runners import Job, Runner, run_node
    from .spec import PipelineSpec, load_pipeline, validate_pipeline

_LAZY = {
    "Catalog": "catalog",
    "Job": "runners",
    "Node": "graph",
    "Pipeline": "graph",
    "PipelineSpec": "spec",
    "RUNNERS": "runner_choice",
    "RunContext": "context",
    "RunOptions": "context",
    "RunResult": "context",
    "Runner": "runners",
    "load_pipeline": "spec",
    "run": "lifecycle",
    "run_node": "runners",
    "validate_pipeline": "spec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hookrunner.pipeline' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Catalog",
    "Job",
    "Node",
    "Pipeline",
    "PipelineSpec",
    "RUNNERS",
    "RunContext",
    "RunOptions",
    "RunResult",
    "Runner",
    "load_pipeline",
    "run",
    "run_node",
    "validate_pipeline",
]
