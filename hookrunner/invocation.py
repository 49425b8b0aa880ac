"""The built-in implementations of the invocation slots (``config_hook``, ``init_hook``,
``run_hook``): what ``hookrunner run`` does when no hook fills a slot.

Each receives the invocation arguments of §5 (``command``, ``cli_args``, ``configs``,
``context``). ``command`` is the ``Invocation`` of ``hookrunner.pipeline.lifecycle``; a hook
that replaces a slot gets the same arguments and must return the same kind of value.
"""

from __future__ import annotations

import copy
from typing import Any

from .pipeline.runners import Job, NodeFailed, job_plans


def default_config(command: Any, cli_args: Any = None, **_: Any) -> dict[str, Any]:
    """Load the pipeline file (graph, catalog entries) and its parameters.

    Returns ``configs``: ``{"pipeline": PipelineSpec, "params": dict, "catalog": dict}``.
    Parameter references are checked after ``--params`` overrides are applied.
    """
    from .pipeline.spec import load_pipeline

    spec = load_pipeline(
        command.options.pipeline, check_params=False, document=getattr(command, "document", None)
    )
    return {
        "pipeline": spec,
        "params": copy.deepcopy(spec.params),
        "catalog": spec.catalog_config,
    }


def default_init(command: Any, cli_args: Any = None, configs: Any = None, **_: Any) -> Any:
    """Open the session (``session_start``), build the context (``after_context_created``)
    and the catalog (``after_catalog_created``); return the context."""
    from .pipeline.lifecycle import RunContext, plan_resume, select_nodes

    spec = configs["pipeline"]
    params = configs["params"]
    session = command.session
    session.start()
    catalog = spec.make_catalog(params)
    selected = configs.get("selected") or select_nodes(spec.pipeline, command.options)
    to_run, skipped = plan_resume(selected, catalog, command.resumed_nodes)
    for name in skipped:
        session.carry_checkpoint(
            {
                "node": name,
                "outputs": selected[name].outputs,
                "resumed_from": command.options.resume,
            },
            node=name,
        )
    context = RunContext(
        project_path=spec.directory,
        pipeline_path=spec.path,
        params=params,
        catalog=catalog,
        pipeline=selected,
        to_run=to_run,
        skipped=skipped,
        spec=spec,
        session=session,
        run_id=session.id,
        config=configs,
    )
    hooks = command.hooks
    hooks.emit("after_context_created", context=context)
    hooks.emit(
        "after_catalog_created",
        catalog=catalog,
        conf_catalog=spec.catalog_config,
        conf_creds={},
        parameters=params,
        save_version=session.id,
        load_versions={},
    )
    return context


def default_run(
    command: Any, cli_args: Any = None, configs: Any = None, context: Any = None, **_: Any
) -> dict[str, Any]:
    """Fire ``before_pipeline_run``, run the nodes with the chosen runner, then
    ``after_pipeline_run`` (or ``on_pipeline_error`` and re-raise). Returns the run result:
    the data of free outputs that live in memory (nothing else would keep them)."""
    from .pipeline.datasets import MemoryDataset
    from .pipeline.runners import make_runner

    hooks = command.hooks
    options = command.options
    run_params = command.run_params(context)
    pipeline, catalog = context.pipeline, context.catalog
    runner = make_runner(options.runner, options.workers)
    hooks.emit("before_pipeline_run", run_params=run_params, pipeline=pipeline, catalog=catalog)
    job = Job(
        pipeline=context.to_run,
        catalog=catalog,
        plans=job_plans(hooks.registry),
        run_id=context.run_id,
        session=context.session,
        progress=command.progress,
    )
    command.job = job
    try:
        runner.run(job)
    except Exception as exc:
        error = exc.error if isinstance(exc, NodeFailed) else exc
        hooks.emit(
            "on_pipeline_error",
            error=error,
            run_params=run_params,
            pipeline=pipeline,
            catalog=catalog,
        )
        raise
    run_result = {
        name: catalog.load(name)
        for name in sorted(pipeline.outputs())
        if isinstance(catalog.get(name), MemoryDataset) and catalog.exists(name)
    }
    hooks.emit(
        "after_pipeline_run",
        run_params=run_params,
        run_result=run_result,
        pipeline=pipeline,
        catalog=catalog,
    )
    return run_result
