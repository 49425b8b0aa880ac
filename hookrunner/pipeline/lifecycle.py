"""The lifecycle of one pipeline run (SPEC §6), event for event.

1. ``before_command_run``; 2. ``parser_hook``, ``pre_config_hook``, ``config_hook`` (slot),
``post_config_hook``; 3. ``pre_init_hook``, ``init_hook`` (slot: ``session_start``,
``after_context_created``, ``after_catalog_created``), ``post_init_hook``; 4. ``pre_run_hook``,
``run_hook`` (slot: ``before_pipeline_run``, the nodes, ``after_pipeline_run`` or
``on_pipeline_error``), ``post_run_hook`` (on success); ``post_error`` on failure;
5. ``pre_session_end``, ``session_end`` (always, once the session started); 6.
``after_command_run`` with the exit code. The slot defaults live in ``invocation``.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from time import perf_counter
from typing import Any

from ..host import command_hooks
from ..host.runner import HookRunner
from ..kernel.errors import (
    Problem,
    ValidationError,
    did_you_mean,
    raised,
)
from ..kernel.registered import Overlay
from ..kernel.runtime.results import error_info
from ..kernel.secrets import scrub
from ..services.sessions.session import Session
from ..services.sessions.store import StoreError, open_store
from ..services.telemetry import tracer_of
from . import heap
from . import invocation as _slot_defaults  # noqa: F401 - provides config/init/run_hook's
from .applies import unmatched_when
from .context import (
    FAILED,
    INTERRUPTED,
    INVALID,
    OK,
    Invocation,
    RunOptions,
    RunResult,
    UsageError,
)
from .dotted import apply_overrides
from .failure import describe
from .params import conflict_message, unknown_overrides
from .runner_choice import RUNNERS
from .runners import NodeFailed, Progress
from .selection import select_nodes, why_not_skipped
from .spec import PipelineSpec, build_hooks, load_document, manifest_paths


def pipeline_name(path: Path) -> str:
    """The pipeline's name in traces (``cicd.pipeline.name``): the file's name without its
    suffix, or its folder's name for a file called ``pipeline.yaml``."""
    path = Path(os.path.realpath(path))  # never a traceback, even for a symlink loop
    return path.parent.name if path.stem == "pipeline" and path.parent.name else path.stem


def _error_info(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, NodeFailed):
        return {**error_info(exc.error), "node": exc.node.name}
    return error_info(exc)


# --------------------------------------------------------------------------- the run


def run(
    options: RunOptions,
    progress: Progress | None = None,
    base_hooks: list[Path] | None = None,
    overlay: Overlay | None = None,
) -> RunResult:
    """Run a pipeline file through the whole lifecycle; never raises for user mistakes or
    failed runs (the result carries the exit code, problems or error).

    ``overlay``: hooks a host application registered from code, laid over the files' hooks.
    A distributed runner's workers rebuild the hooks from the files, so under Dask those run
    in the driver (``where: driver``)."""
    t0 = perf_counter()
    extra_hooks = list(base_hooks or []) + list(options.hooks)
    command_args = options.command_args or ["run", str(options.pipeline), *options.extra_args]
    doc: Any = None

    def invalid(error: str | None = None, problems: list[Problem] | None = None) -> RunResult:
        """Exit 2 before the run's hooks exist: after_command_run still fires, from the
        manifests that are valid on their own."""
        paths = manifest_paths(doc, extra_hooks) if doc is not None else extra_hooks
        runner = command_hooks.partial_runner(paths)
        if runner is not None:
            meta = command_hooks.project_metadata(paths, pipeline=str(options.pipeline))
            command_hooks.after(runner, meta, command_args, INVALID)
            runner.close()
        return RunResult(INVALID, "invalid", error=error, problems=list(problems or []))

    doc, shape = load_document(options.pipeline)
    if options.runner not in RUNNERS:
        hint = did_you_mean(options.runner, RUNNERS)
        return invalid(
            f"unknown runner {options.runner!r} (choose from: {', '.join(RUNNERS)})"
            + (f"; {hint}" if hint else "")
        )
    if options.workers is not None and options.workers < 1:
        return invalid("--workers must be at least 1")
    clash = conflict_message(options.params)
    if clash:
        return invalid(clash)
    unavailable = RUNNERS[options.runner].unavailable()
    if unavailable:
        return invalid(unavailable)
    if options.address is not None:
        from .dask_runner import check_address  # no Dask import: it checks the text

        if options.runner != "dask":
            return invalid("--address needs --runner dask")
        problem = check_address(options.address)
        if problem:
            return invalid(problem)
    if doc is None or shape:
        return invalid(problems=shape)
    try:
        if overlay is not None and options.runner == "dask":
            driven = tuple(d.replace(where="driver") for d in overlay.decls)
            overlay = overlay._replace(decls=driven)
        hooks = build_hooks(doc, extra_hooks, shape, overlay)
    except ValidationError as exc:
        return invalid(problems=exc.problems)
    # Opens on first use: a file that is no store fails inside the lifecycle (exit 2 below).
    store = open_store(options.store, doc.directory)
    # The session records how it was started: the command line and the --params overrides.
    recorded: dict[str, Any] = {
        "pipeline": str(Path(doc.file).resolve()),
        "command": shlex.join(["hookrunner", *command_args]),
    }
    if options.params:
        recorded["params"] = dict(options.params)
    session = Session(
        hooks,
        store,
        session_id=options.session_id,
        metadata={**recorded, **options.metadata},
        kind="run",
        source=str(Path(doc.file).resolve()),
        resumed_from=options.resume,
    )
    command = Invocation("run", options, hooks, session, store, progress, document=(doc, shape))
    result = RunResult(OK, "ok", session_id=session.id, store=str(store.path))
    project_metadata = command_hooks.project_metadata(
        manifest_paths(doc, extra_hooks), pipeline=str(doc.file)
    )
    tracer = tracer_of(hooks)
    if tracer is not None:  # the run's span, current until the run ends
        command.trace = tracer.start_run(pipeline_name(Path(doc.file)), session.id)
    failure: BaseException | None = None  # what failed the run (the run's span says)
    session.start_recording()
    try:
        try:
            command_hooks.before(hooks, project_metadata, command_args)
            _lifecycle(command, result)
        except ValidationError as exc:
            result.exit_code, result.status, result.problems = INVALID, "invalid", exc.problems
            failure = exc
        except (UsageError, StoreError) as exc:
            result.exit_code, result.status, result.error = INVALID, "invalid", str(exc)
            failure = exc
        except KeyboardInterrupt:
            result.exit_code, result.status, result.error = (
                INTERRUPTED,
                "interrupted",
                "interrupted",
            )
        except Exception as exc:
            failure = exc.error if isinstance(exc, NodeFailed) else exc
            result.exit_code, result.status = FAILED, "failed"
            if isinstance(exc, NodeFailed):
                result.nodes_failed.append(exc.node.name)
            result.failure = describe(exc, command.spec)
            result.error = result.failure.message
            if session.status == "running":
                session.emit("post_error", error_info=_error_info(exc), error=exc)
        if command.job is not None:
            result.nodes_run = list(command.job.done)
            result.startup_s = command.job.startup_s
        result.crashed = list(store.crashed)
        if session.status == "running":
            try:
                # The outcome goes through the session_metadata wrap hooks like any update.
                session.end(
                    "ok" if result.exit_code == OK else result.status,
                    {
                        "exit_code": result.exit_code,
                        "nodes_total": result.nodes_total,
                        "nodes_run": len(result.nodes_run),
                        "nodes_failed": result.nodes_failed,
                        "nodes_skipped": len(result.nodes_skipped),
                        "error": result.error,
                        **(
                            {"failure": result.failure.as_dict()}
                            if result.failure is not None
                            else {}
                        ),
                    },
                    keep_recording=True,
                    metadata={
                        "status": "ok" if result.exit_code == OK else result.status,
                        "exit_code": result.exit_code,
                        "nodes_run": len(result.nodes_run),
                        "nodes_skipped": len(result.nodes_skipped),
                    },
                )
            except KeyboardInterrupt:
                result.exit_code, result.status = INTERRUPTED, "interrupted"
            except StoreError as exc:  # the run is over; only its record failed
                result.exit_code, result.status = FAILED, "failed"
                result.error = result.error or str(exc)
        command_hooks.report_failures(
            hooks.emit(
                "after_command_run",
                project_metadata=project_metadata,
                command_args=command_args,
                exit_code=result.exit_code,
            ),
            "after_command_run",
        )
    finally:
        session.stop_recording()
        if session.status not in ("new",):
            try:
                result.hook_stats = session.hook_stats()
                if result.hook_failures:
                    result.failed_calls = store.hook_calls(session.id, failed_only=True, limit=3)
            except StoreError as exc:
                result.error = result.error or str(exc)
        else:
            result.session_id = None
        if command.trace is not None:
            command.trace.end(result.exit_code, failure)
        store.close()
        hooks.close()
        heap.thaw(command.frozen)
    if result.error:  # a message for people: values from the environment masked
        result.error = scrub(result.error)
    result.duration_s = perf_counter() - t0
    return result


def extra_parser(hooks: HookRunner, pipeline: Path) -> argparse.ArgumentParser:
    """The parser ``parser_hook`` hooks add options to: it reads the arguments of
    ``hookrunner run`` that the command itself does not know."""
    parser = argparse.ArgumentParser(
        prog=f"hookrunner run {pipeline}",
        add_help=False,
        exit_on_error=False,
        usage=argparse.SUPPRESS,
        conflict_handler="resolve",  # a parser_hook may declare its own --env
    )
    parser.add_argument("--env", default=None, help=ENV_HELP)
    hooks.emit("parser_hook", parser=parser)
    return parser


ENV_HELP = "Kedro's configuration environment: conf/ENV over conf/base (default: $KEDRO_ENV)"


def parser_help(pipeline: Path, extra_hooks: list[Path] | None = None) -> str:
    """The options ``parser_hook`` hooks add for ``pipeline`` (for ``run PIPELINE --help``),
    or a line saying why they cannot be listed."""
    doc, shape = load_document(pipeline)
    if doc is None or shape:
        return f"(options from parser_hook hooks: {pipeline} is invalid; see hookrunner validate)"
    try:
        hooks = build_hooks(doc, list(extra_hooks or []), shape)
    except ValidationError:
        return f"(options from parser_hook hooks: the hooks of {pipeline} are invalid)"
    try:
        parser = extra_parser(hooks, pipeline)
    except Exception as exc:  # a parser hook failed: say so, the help still prints
        return f"(a parser_hook hook failed: {raised(exc)})"
    finally:
        hooks.close()
    if not [a for a in parser._actions if a.help != ENV_HELP]:
        return ""
    return f"Options added by parser_hook hooks for {pipeline}:\n" + parser.format_help()


def _lifecycle(command: Invocation, result: RunResult) -> None:
    hooks = command.hooks
    options = command.options
    parser = extra_parser(hooks, options.pipeline)
    try:
        extra, unknown = parser.parse_known_args(options.extra_args)
    except argparse.ArgumentError as exc:
        raise UsageError(str(exc)) from None
    if unknown:
        raise UsageError(
            f"unknown option(s): {' '.join(unknown)} (see `hookrunner run --help`; "
            "parser_hook hooks may add options)"
        )
    if getattr(extra, "env", None) is None:  # --env, else the API's env, else Kedro's variable
        extra.env = options.env or os.environ.get("KEDRO_ENV") or None
    command.extra = extra
    cli_args = {**options.as_cli_args(), **vars(extra)}
    inv = {"command": command, "cli_args": cli_args}

    hooks.emit("pre_config_hook", **inv)
    configs = hooks.emit("config_hook", **inv).value
    # Built-in post-config step: --params overrides, then parameter references.
    spec: PipelineSpec = configs["pipeline"]
    if not options.params_new:
        missing = unknown_overrides(configs["params"], options.params)
        if missing:
            raise ValidationError(
                [
                    spec.doc.problem(
                        ("params",),
                        f"--params {key}: no such parameter",
                        (hint + "; " if hint else "") + "pass --params-new to add parameters",
                    )
                    for key, hint in missing
                ]
            )
    apply_overrides(configs["params"], options.params)
    problems = spec.check_params(configs["params"])
    if problems:
        raise ValidationError(problems)
    command.spec = spec
    result.warnings = unmatched_when(hooks.registry.manifest, spec)
    configs["selected"] = select_nodes(spec.pipeline, options)
    result.nodes_total = len(configs["selected"])
    # Loading is over: what it built lives as long as the run (see hookrunner.heap).
    command.frozen = heap.freeze()
    if command.progress is not None:
        command.progress("plan", None, float(result.nodes_total))
    if options.resume:
        try:
            previous = (
                command.store.latest(source=str(spec.path))
                if options.resume == "last"
                else command.store.session(options.resume)
            )
        except StoreError as exc:
            raise UsageError(f"--resume: {exc}") from None
        if previous is None:
            raise UsageError(
                f"--resume last: no earlier run of {spec.path.name} in {command.store.path}"
            )
        resumed = previous["id"]
        if previous["source"] != str(spec.path):
            raise UsageError(
                f"--resume: session {resumed} ran {previous['source']}, not {spec.path}"
            )
        options.resume = command.session.resumed_from = resumed
        command.resumed_nodes = command.store.checkpointed_nodes(resumed)
    hooks.emit("post_config_hook", **inv, configs=configs)

    hooks.emit("pre_init_hook", **inv, configs=configs)
    context = hooks.emit("init_hook", **inv, configs=configs).value
    result.nodes_skipped = list(getattr(context, "skipped", []))
    if options.resume and not result.nodes_skipped and context is not None:
        reasons = why_not_skipped(context.pipeline, context.catalog, command.resumed_nodes)
        result.notes.append(f"--resume {options.resume}: no node skipped: " + "; ".join(reasons))
    if command.progress is not None:
        for name in result.nodes_skipped:
            command.progress("skipped", context.pipeline[name], 0.0)
    if command.trace is not None:
        for name in result.nodes_skipped:
            command.trace.skipped(name)
    hooks.emit("post_init_hook", **inv, configs=configs, context=context)

    hooks.emit("pre_run_hook", **inv, configs=configs, context=context)
    result.outputs = hooks.emit("run_hook", **inv, configs=configs, context=context).value or {}
    hooks.emit("post_run_hook", **inv, configs=configs, context=context)


def run_pipeline(
    pipeline: str | os.PathLike[str],
    runner: str = "sequential",
    params: Mapping[str, Any] | None = None,
    base_hooks: list[Path] | None = None,
    overlay: Overlay | None = None,
    **options: Any,
) -> RunResult:
    """The Python API's run: ``params`` are dotted overrides (``{"model.depth": 3}``); the
    other keyword arguments are ``RunOptions`` fields (``overlay``: see ``run``). Raises ValidationError for invalid
    files and ValueError for invalid options; a failed run is returned (``ok`` is False)."""
    progress = options.pop("progress", None)
    opts = RunOptions(pipeline=Path(pipeline), runner=runner, params=dict(params or {}), **options)
    result = run(opts, progress=progress, base_hooks=base_hooks, overlay=overlay)
    if result.problems:
        raise ValidationError(result.problems)
    if result.exit_code == INVALID:
        raise ValueError(result.error)
    return result


__all__ = ["RunOptions", "RunResult", "UsageError", "run", "run_pipeline"]
