"""The invocation slots' defaults and factories, under the name users import:
``from hookrunner.invocation import config_factory``.

They live in ``hookrunner.pipeline.invocation``; these are the names users write.
"""

from .pipeline.invocation import (
    config_factory,
    default_config,
    default_init,
    default_run,
    init_factory,
    merge_params,
    run_factory,
)

__all__ = [
    "config_factory",
    "default_config",
    "default_init",
    "default_run",
    "init_factory",
    "merge_params",
    "run_factory",
]
