"""The event catalogue: one declarative table.

The JSON Schema's event list, the docs, ``hookrunner list`` and the dispatcher all read
``CATALOGUE``; nothing else restates event names or arguments. A slot event's built-in
implementation is provided by the layer that owns the slot (``runtime.slots``).
"""

from __future__ import annotations

from dataclasses import dataclass

STYLES = ("notify", "veto", "firstresult", "wrap", "slot")
POLICIES = ("continue", "raise", "disable")

# Arguments every session event carries (session-buddy's HookContext), all optional.
SESSION_ARGS = (
    "hook_type",
    "session_id",
    "timestamp",
    "metadata",
    "error_info",
    "file_path",
    "checkpoint_data",
)

# What a coding agent's hook input carries besides ``session_id`` (Claude Code's common input
# fields, see ``hookrunner.services.claude``): declared on the events an agent fires, so hooks
# can name them and ``when:`` can match them.
AGENT_ARGS = "transcript_path cwd permission_mode hook_event_name agent_id agent_type"


@dataclass(frozen=True)
class EventSpec:
    """One event: its exact argument names, call style and default error policy."""

    name: str
    args: tuple[str, ...]
    style: str = "notify"
    on_error: str = "continue"
    group: str = "custom"
    doc: str = ""
    # Optional arguments default to None when the emitter leaves them out; the others are
    # required, and an argument that is neither is refused (``EventArgumentError``).
    optional: tuple[str, ...] = ()
    parallel: bool = False
    # notify: a returned mapping is merged into this argument (and later hooks see it).
    merge_into: str | None = None
    # notify: a returned mapping is the only accepted non-None return (Kedro's inputs).
    strict_merge: bool = False
    # notify: a returned value of another type replaces this argument for later hooks.
    chain: str | None = None
    # wrap: positional arguments of ``original_func`` replace these, the first present.
    payload: tuple[str, ...] = ()

    @property
    def all_args(self) -> tuple[str, ...]:
        return self.args + tuple(a for a in self.optional if a not in self.args)

    @property
    def required(self) -> tuple[str, ...]:
        """The arguments an emit must pass (``original_func`` is the operation's)."""
        return tuple(a for a in self.args if a not in RESERVED_ARGS)


def _e(name: str, args: str, group: str, doc: str, **kw: object) -> EventSpec:
    return EventSpec(name=name, args=tuple(args.split()), group=group, doc=doc, **kw)  # type: ignore[arg-type]


def _pipeline(name: str, args: str, doc: str, **kw: object) -> EventSpec:
    return _e(name, args, "pipeline", doc, on_error="raise", **kw)


def _session(name: str, doc: str, extra: str = "", **kw: object) -> EventSpec:
    return _e(
        name,
        "",
        "session",
        doc,
        optional=SESSION_ARGS + tuple(extra.split()),
        merge_into="metadata",
        **kw,
    )


def _invocation(name: str, doc: str, **kw: object) -> EventSpec:
    return _e(
        name, "", "invocation", doc, optional=("command", "cli_args", "configs", "context"), **kw
    )


CATALOGUE: tuple[EventSpec, ...] = (
    # Pipeline (Kedro 1.x names and arguments).
    _pipeline("after_context_created", "context", "The run's context exists."),
    _pipeline(
        "after_catalog_created",
        "catalog conf_catalog conf_creds parameters save_version load_versions",
        "The data catalog is built.",
    ),
    _pipeline("before_pipeline_run", "run_params pipeline catalog", "Before the first node."),
    _pipeline(
        "after_pipeline_run", "run_params run_result pipeline catalog", "All nodes finished."
    ),
    _pipeline(
        "on_pipeline_error", "error run_params pipeline catalog", "The run failed with `error`."
    ),
    _pipeline(
        "before_node_run",
        "node catalog inputs is_async run_id",
        "Before a node; a returned mapping overrides its inputs.",
        merge_into="inputs",
        strict_merge=True,
    ),
    _pipeline("after_node_run", "node catalog inputs outputs is_async run_id", "A node returned."),
    _pipeline(
        "on_node_error", "error node catalog inputs is_async run_id", "A node raised `error`."
    ),
    _pipeline("before_dataset_loaded", "dataset_name node", "Before a dataset is loaded."),
    _pipeline("after_dataset_loaded", "dataset_name data node", "A dataset was loaded."),
    _pipeline("before_dataset_saved", "dataset_name data node", "Before a dataset is saved."),
    _pipeline("after_dataset_saved", "dataset_name data node", "A dataset was saved."),
    # CLI.
    _e(
        "before_command_run",
        "project_metadata command_args",
        "cli",
        "Before a hookrunner command runs.",
    ),
    _e(
        "after_command_run",
        "project_metadata command_args exit_code",
        "cli",
        "After a hookrunner command, also when it failed (with its exit code).",
    ),
    # Command invocation (coma): parser hook, then config/init/run, each pre/main/post.
    _e("parser_hook", "parser", "invocation", "Add options to `hookrunner run`'s parser."),
    _invocation("pre_config_hook", "Before the configuration is loaded."),
    _invocation(
        "config_hook",
        "Load the configuration (slot).",
        style="slot",
    ),
    _invocation("post_config_hook", "After the configuration is loaded (applies --params)."),
    _invocation("pre_init_hook", "Before the session, context and catalog are built."),
    _invocation(
        "init_hook",
        "Build session, context, catalog and pipeline (slot).",
        style="slot",
    ),
    _invocation("post_init_hook", "After init."),
    _invocation("pre_run_hook", "Before the runner starts."),
    _invocation(
        "run_hook",
        "Run the pipeline (slot).",
        style="slot",
    ),
    _invocation("post_run_hook", "After the run."),
    # Session lifecycle (session-buddy's hook types).
    _session("session_start", "A session opened.", f"source model {AGENT_ARGS}"),
    _session(
        "session_end", "A session closed (always, also after a failure).", f"reason {AGENT_ARGS}"
    ),
    _session(
        "pre_session_end",
        "A session is about to close (an agent: it finished responding).",
        f"stop_hook_active last_assistant_message {AGENT_ARGS}",
    ),
    _session("user_prompt_submit", "A user submitted a prompt.", f"prompt {AGENT_ARGS}"),
    _session(
        "pre_checkpoint",
        "Before a checkpoint (an agent: before compacting its context); may veto it.",
        f"trigger custom_instructions {AGENT_ARGS}",
        style="veto",
    ),
    _session("post_checkpoint", "A checkpoint was stored."),
    _session(
        "pre_tool_execution",
        "Before a tool runs; may veto it, and each hook may return a rewritten `tool_input`.",
        f"tool_name tool_input tool_use_id {AGENT_ARGS}",
        style="veto",
        chain="tool_input",
    ),
    _session(
        "post_tool_execution",
        "A tool ran.",
        f"tool_name tool_input tool_output tool_response tool_use_id duration_ms {AGENT_ARGS}",
    ),
    _session(
        "post_tool_failure",
        "A tool failed (`error` says how).",
        f"tool_name tool_input tool_use_id error is_interrupt duration_ms {AGENT_ARGS}",
    ),
    _session(
        "notification",
        "The agent notified its user (it waits for a permission, it is idle).",
        f"message title notification_type {AGENT_ARGS}",
    ),
    _session(
        "subagent_stop",
        "A subagent finished responding.",
        f"stop_hook_active agent_transcript_path last_assistant_message {AGENT_ARGS}",
    ),
    _session("post_file_edit", "A file was edited."),
    _session("post_error", "A hook or an operation failed.", "error"),
    _session(
        "pre_search_query",
        "Before a search; each hook may return a rewritten `query`.",
        "query",
        chain="query",
    ),
    _session(
        "pre_reflection_store",
        "Before a reflection is stored; may veto it.",
        "content",
        style="veto",
    ),
    # Session data (MongoDB session manager's around-hooks).
    _e(
        "session_metadata",
        "original_func action session_id",
        "session-data",
        "Around a metadata update/get/delete.",
        style="wrap",
        optional=("metadata", "keys"),
        payload=("metadata", "keys"),
    ),
    _e(
        "session_feedback",
        "original_func action session_id",
        "session-data",
        "Around a feedback add.",
        style="wrap",
        optional=("feedback",),
        payload=("feedback",),
    ),
    # Slots.
    _e(
        "build_s3_client",
        "session_kwargs client_kwargs",
        "slot",
        "Build the boto3 S3 client every S3 access uses.",
        style="slot",
    ),
)

BUILTIN: dict[str, EventSpec] = {e.name: e for e in CATALOGUE}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(e.group for e in CATALOGUE))

# Matcher keys that name an attribute of an argument rather than the argument itself.
MATCH_ALIASES: dict[str, tuple[str, str | None]] = {
    "node": ("node", "name"),
    "tags": ("node", "tags"),
    "dataset": ("dataset_name", None),
    "tool": ("tool_name", None),
}

RESERVED_ARGS = frozenset({"original_func"})


def hook_args(spec: EventSpec) -> tuple[str, ...]:
    """The argument names a hook of this event may ask for (``original_func`` is positional)."""
    return tuple(a for a in spec.all_args if a not in RESERVED_ARGS)
