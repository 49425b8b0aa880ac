"""What Kedro's hooks receive from a run, in Kedro 1.x's shapes and types.

The event arguments a ``kedro run`` passes are built here, so every place that fires Kedro's
events (the default ``init_hook``/``run_hook``, a later in-Kedro integration) builds them the
same way: ``run_params`` with Kedro's 16 keys and types (``runner`` as Kedro renders it,
tuples where Kedro has tuples) plus hookrunner's own, the flattened ``params:`` entries of
``after_catalog_created``, its ``conf_catalog`` with absolute paths, the ``run_result`` of
``after_pipeline_run`` (every free output's dataset), a ``_hook_manager`` whose
``hook.<event>(...)`` fires through hookrunner, and ``sys.exc_info()`` inside
``on_pipeline_error`` being the node's own exception.

Kedro is never imported here: the classes a plugin can check for (Kedro's ``Node``) are used
when the plugin has loaded them (see ``node_type``).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..host.project_metadata import kedro_version
from ..kernel.version import __version__
from .dotted import nested
from .graph import Node

if TYPE_CHECKING:
    from ..host.runner import HookRunner
    from .runners import Runner

#: hookrunner's runners as the Kedro runner classes they stand for (``run_params["runner"]``);
#: a runner Kedro has no counterpart of is rendered under its own class path.
KEDRO_RUNNERS = {
    "sequential": "kedro.runner.sequential_runner.SequentialRunner",
    "thread": "kedro.runner.thread_runner.ThreadRunner",
}
PATH_KEYS = ("filename", "filepath", "path")


def render_runner(runner: Runner) -> str:
    """``str(runner)`` as Kedro's ``run_params["runner"]`` has it:
    ``<kedro.runner.sequential_runner.SequentialRunner object at 0x...>`` (kedro-viz tells the
    sequential runner by this text)."""
    cls = type(runner)
    path = KEDRO_RUNNERS.get(runner.name) or f"{cls.__module__}.{cls.__qualname__}"
    return f"<{path} object at {id(runner):#x}>"


def run_params(
    *,
    run_id: str,
    project_path: Path,
    env: str | None,
    runner: Runner,
    options: Any,
    pipeline_path: Path,
) -> dict[str, Any]:
    """Kedro's ``run_params`` as ``kedro run`` passes them (same keys, order and types:
    ``tags`` and ``node_names`` tuples, the other selections lists), then hookrunner's own
    keys (``session_id``, ``pipeline_path``, ``runner_name``, ``workers``, ``extra_params``,
    ``resume``, ``hookrunner_version``). Options hookrunner has no counterpart of
    (``--from-inputs``, ``--pipelines``...) have Kedro's empty values."""
    return {
        "run_id": run_id,
        "project_path": project_path.as_posix(),
        "env": env,
        "kedro_version": kedro_version(),
        "tags": tuple(options.tags),
        "from_nodes": list(options.from_nodes),
        "to_nodes": list(options.to_nodes),
        "node_names": tuple(options.nodes),
        "from_inputs": [],
        "to_outputs": [],
        "load_versions": {},
        "runtime_params": nested(options.params),
        "pipeline_names": [],
        "namespaces": [],
        "runner": render_runner(runner),
        "only_missing_outputs": False,
        "session_id": run_id,
        "pipeline_path": str(pipeline_path),
        "runner_name": runner.name,
        "workers": options.workers,
        "extra_params": copy.deepcopy(options.params) if options.params else {},
        "resume": options.resume,
        "hookrunner_version": __version__,
    }


def _relative(path: str) -> bool:
    if PureWindowsPath(path).drive or urlparse(path).scheme:
        return False
    return not PurePosixPath(path).is_absolute()


def conf_catalog(config: Mapping[str, Any], project_path: Path) -> dict[str, Any]:
    """The catalog entries as ``after_catalog_created`` gets them from Kedro: a copy with
    relative ``path``/``filepath``/``filename`` values made absolute POSIX paths."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            out[key] = conf_catalog(value, project_path)
        elif isinstance(value, str) and key in PATH_KEYS and _relative(value):
            out[key] = (project_path / value).as_posix()
        else:
            out[key] = copy.deepcopy(value)
    return out


def free_outputs(pipeline: Any, catalog: Any) -> dict[str, Any]:
    """Kedro 1.x's run result: every free output of the pipeline, as its dataset."""
    return {name: catalog[name] for name in pipeline.outputs()}


def warm_up(pipeline: Any, catalog: Any) -> None:
    """Register every dataset the pipeline names, as Kedro's runner does before it starts
    (hooks then see the same ``catalog.keys()`` during the run)."""
    catalog.materialize(pipeline.datasets())


def while_handling(error: BaseException, fire: Callable[[], Any]) -> Any:
    """Call ``fire()`` with ``error`` as the exception being handled (``sys.exc_info()``,
    ``traceback.format_exc()``), as inside Kedro's ``except`` around the runner, then put
    back what raising it changed (its traceback and the exception contexts)."""
    outer = sys.exception()
    outer_context = outer.__context__ if outer is not None else None
    tb, context = error.__traceback__, error.__context__
    try:
        raise error
    except BaseException:
        return fire()
    finally:
        error.__traceback__, error.__context__ = tb, context
        if outer is not None:
            outer.__context__ = outer_context


class _Hooks:
    """``hook_manager.hook``: ``hook.before_node_run(node=..., ...)`` fires the event through
    hookrunner and returns the hooks' non-None values, as pluggy does."""

    def __init__(self, runner: HookRunner):
        self._runner = runner

    def __getattr__(self, event: str) -> Callable[..., list[Any]]:
        if event.startswith("_"):
            raise AttributeError(event)
        runner = self._runner

        def call(**kwargs: Any) -> list[Any]:
            result = runner.emit(event, **kwargs)
            return [r.value for r in result.results if r.value is not None]

        call.__name__ = event
        return call


class HookManager:
    """What a Kedro context's ``_hook_manager`` is used for: ``.hook.<event>(**kwargs)``."""

    def __init__(self, runner: HookRunner):
        self.hook = _Hooks(runner)
        self._runner = runner

    def is_registered(self, plugin: Any) -> bool:
        return False

    def get_plugins(self) -> set[Any]:
        return set()


_KEDRO_NODE: type[Node] | None = None


def node_type() -> type[Node]:
    """The class of the pipeline's nodes: hookrunner's ``Node``, or, when Kedro's node module
    is loaded (a hook or plugin imported it, so it may check ``isinstance(node, Node)``), a
    subclass that is also a ``kedro.pipeline.node.Node``."""
    global _KEDRO_NODE
    if "kedro.pipeline.node" not in sys.modules:
        return Node
    if _KEDRO_NODE is None:
        from .kedro_node import KedroNode

        _KEDRO_NODE = KedroNode
    return _KEDRO_NODE
