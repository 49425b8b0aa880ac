"""The built-in implementations of the invocation slots (``config_hook``, ``init_hook``,
``run_hook``): what ``hookrunner run`` does when no hook fills a slot.

Each receives the invocation arguments of §5 (``command``, ``cli_args``, ``configs``,
``context``). ``command`` is the ``Invocation`` of ``hookrunner.pipeline.context``; a hook
that replaces a slot gets the same arguments and must return the same kind of value. Users
import them as ``hookrunner.invocation``; importing this module provides the slots' defaults
to the runtime (``slots.provide``).

As in coma, the defaults are built by factories (``config_factory``, ``init_factory``,
``run_factory``): a project that needs one step done differently (parameters from an extra
file per environment, another catalog, another runner) makes a variation of the default
instead of rewriting the whole step, and puts it in the slot.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..kernel.document import load_file
from ..kernel.errors import ValidationError
from ..kernel.runtime import slots
from . import kedro_api
from .catalog import flat_parameters
from .context import RunContext, UsageError
from .datasets import MemoryDataset
from .dotted import nested
from .runner_choice import make_runner
from .runners import Job, NodeFailed, Runner, job_plans
from .selection import plan_resume
from .spec import load_pipeline

Slot = Callable[..., Any]


def merge_params(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into ``base`` in place (mappings merge, anything else replaces)."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge_params(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _params_file(pattern: str, spec: Any, cli_args: Mapping[str, Any]) -> dict[str, Any]:
    try:
        name = pattern.format_map(dict(cli_args or {}))
    except KeyError as exc:
        option = "--" + str(exc.args[0]).replace("_", "-")
        raise UsageError(
            f"parameters file {pattern!r} needs {option} (add the option with a parser_hook)"
        ) from None
    path = Path(name) if Path(name).is_absolute() else spec.directory / name
    if not path.is_file():
        raise UsageError(f"parameters file {name!r} not found ({path})")
    doc = load_file(path)
    if not isinstance(doc.data, dict):
        raise ValidationError([doc.problem((), "a parameters file must be a mapping")])
    return doc.data


def config_factory(
    params_files: Sequence[str] = (),
    transform: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None] | None = None,
) -> Slot:
    """A ``config_hook`` that loads the pipeline file like the default, then merges each of
    ``params_files`` over its ``params:`` (YAML mappings, relative to the pipeline file;
    ``{name}`` is filled from ``cli_args``, e.g. ``"conf/{env}.yaml"`` with a parser hook
    adding ``--env``), then calls ``transform(params, cli_args)`` (which may return new
    params). ``--params`` overrides still apply afterwards."""

    def config_hook(command: Any, cli_args: Any = None, **_: Any) -> dict[str, Any]:
        spec = load_pipeline(
            command.options.pipeline,
            check_params=False,
            document=getattr(command, "document", None),
            hooks=getattr(command, "hooks", None),
        )
        params = copy.deepcopy(spec.params)
        for pattern in params_files:
            merge_params(params, _params_file(pattern, spec, cli_args or {}))
        if transform is not None:
            params = transform(params, dict(cli_args or {})) or params
        return {"pipeline": spec, "params": params, "catalog": spec.catalog_config}

    config_hook.__doc__ = "Load the pipeline file and its parameters (``configs``)."
    return config_hook


def init_factory(
    catalog: Callable[[Any, dict[str, Any]], Any] | None = None,
    context: Callable[[Any], Any] | None = None,
) -> Slot:
    """An ``init_hook`` that opens the session (``session_start``), builds the catalog and the
    context (``after_context_created``, ``after_catalog_created``) like the default, with
    ``catalog(spec, params)`` building the catalog instead of the pipeline file's entries, and
    ``context(ctx)`` given the context to adjust or replace before the events fire."""

    def init_hook(command: Any, cli_args: Any = None, configs: Any = None, **_: Any) -> Any:
        spec = configs["pipeline"]
        params = configs["params"]
        session = command.session
        session.start()
        cat = catalog(spec, params) if catalog is not None else spec.make_catalog(params)
        selected = configs["selected"]  # chosen by the lifecycle after the config hooks
        to_run, skipped = plan_resume(selected, cat, command.resumed_nodes)
        for name in skipped:
            session.carry_checkpoint(
                {
                    "node": name,
                    "outputs": selected[name].outputs,
                    "resumed_from": command.options.resume,
                },
                node=name,
            )
        ctx = RunContext(
            project_path=spec.directory,
            pipeline_path=spec.path,
            params=params,
            catalog=cat,
            pipeline=selected,
            to_run=to_run,
            skipped=skipped,
            spec=spec,
            session=session,
            run_id=session.id,
            config=configs,
            env=(cli_args or {}).get("env"),
            hooks=command.hooks,
            _runtime_params=nested(command.options.params),
        )
        if context is not None:
            ctx = context(ctx) or ctx
        hooks = command.hooks
        hooks.emit("after_context_created", context=ctx)
        # Kedro's arguments: the parameters as the catalog's entries, the entries' paths
        # made absolute, the conf folder's credentials (read only when a hook will see them).
        if hooks.registry.plans["after_catalog_created"].hooks:
            hooks.emit(
                "after_catalog_created",
                catalog=ctx.catalog,
                conf_catalog=kedro_api.conf_catalog(spec.catalog_config, spec.directory),
                conf_creds=ctx._get_config_credentials() if _kedro_like(ctx) else {},
                parameters=flat_parameters(getattr(ctx, "params", params)),
                save_version=session.id,
                load_versions={},
            )
        return ctx

    init_hook.__doc__ = "Open the session, build the catalog and the context."
    return init_hook


def _kedro_like(context: Any) -> bool:
    """A ``context(ctx)`` factory may return its own object; it may lack Kedro's methods."""
    return callable(getattr(context, "_get_config_credentials", None))


def _memory_outputs(context: Any) -> dict[str, Any]:
    """The run result: the data of free outputs that live in memory (nothing else keeps them)."""
    catalog = context.catalog
    return {
        name: catalog.load(name)
        for name in sorted(context.pipeline.outputs())
        if isinstance(catalog.dataset(name), MemoryDataset) and catalog.exists(name)
    }


def run_factory(
    runner: str | Runner | Callable[[Any], Runner] | None = None,
    workers: int | None = None,
    result: Callable[[Any], dict[str, Any]] | None = None,
) -> Slot:
    """A ``run_hook`` that fires ``before_pipeline_run``, runs the nodes, then
    ``after_pipeline_run`` (or ``on_pipeline_error`` and re-raises), like the default, with
    ``runner`` (a name from ``RUNNERS``, a ``Runner``, or ``f(options) -> Runner``) and
    ``workers`` instead of ``--runner``/``--workers``, and ``result(context)`` computing
    the run result instead of the free in-memory outputs."""

    def pick(options: Any) -> Runner:
        if runner is None or isinstance(runner, str):
            return make_runner(
                runner or options.runner,
                workers or options.workers,
                address=getattr(options, "address", None),
            )
        if isinstance(runner, Runner):
            return runner
        return runner(options)

    def run_hook(
        command: Any, cli_args: Any = None, configs: Any = None, context: Any = None, **_: Any
    ) -> dict[str, Any]:
        hooks = command.hooks
        chosen = command.runner = pick(command.options)
        run_params = command.run_params(context, chosen)
        pipeline, catalog = context.pipeline, context.catalog
        hooks.emit("before_pipeline_run", run_params=run_params, pipeline=pipeline, catalog=catalog)
        run_span = getattr(command, "trace", None)  # the run's span when it is traced
        kedro_api.warm_up(pipeline, catalog)
        job = Job(
            pipeline=context.to_run,
            catalog=catalog,
            plans=job_plans(hooks.registry),
            run_id=context.run_id,
            session=context.session,
            progress=command.progress,
            trace=run_span.nodes() if run_span is not None else None,
        )
        command.job = job
        try:
            chosen.run(job)
        except Exception as exc:
            # As under Kedro, the hooks see the node's own exception, also in sys.exc_info().
            error = exc.error if isinstance(exc, NodeFailed) else exc
            kedro_api.while_handling(
                error,
                lambda: hooks.emit(
                    "on_pipeline_error",
                    error=error,
                    run_params=run_params,
                    pipeline=pipeline,
                    catalog=catalog,
                ),
            )
            raise
        outputs = (result or _memory_outputs)(context)
        hooks.emit(
            "after_pipeline_run",
            run_params=run_params,
            # Kedro 1.x's: every free output's dataset (a custom ``result`` replaces it).
            run_result=outputs if result is not None else kedro_api.free_outputs(pipeline, catalog),
            pipeline=pipeline,
            catalog=catalog,
        )
        return outputs

    run_hook.__doc__ = "Run the selected nodes with the runner; return the run result."
    return run_hook


#: The slots' defaults, provided to the runtime for ``config_hook``, ``init_hook``, ``run_hook``.
default_config: Slot = config_factory()
default_init: Slot = init_factory()
default_run: Slot = run_factory()
slots.provide("config_hook", default_config)
slots.provide("init_hook", default_init)
slots.provide("run_hook", default_run)

__all__ = [
    "config_factory",
    "default_config",
    "default_init",
    "default_run",
    "init_factory",
    "merge_params",
    "run_factory",
]
