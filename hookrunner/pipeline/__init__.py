"""Pipelines: a YAML file of nodes, a catalog and parameters, run with the full lifecycle."""

from .catalog import Catalog
from .graph import Node, Pipeline
from .lifecycle import RunContext, RunOptions, RunResult, run
from .runners import RUNNERS, Job, Runner, run_node
from .spec import PipelineSpec, load_pipeline, validate_pipeline

__all__ = [
    "RUNNERS",
    "Catalog",
    "Job",
    "Node",
    "Pipeline",
    "PipelineSpec",
    "RunContext",
    "RunOptions",
    "RunResult",
    "Runner",
    "load_pipeline",
    "run",
    "run_node",
    "validate_pipeline",
]
