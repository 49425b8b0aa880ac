"""What made a run fail, in the words of the files a user edits.

A failed run names its culprit: the hook that raised (its name, event and manifest line), the
node whose function raised (its line in the pipeline file), or the dataset that could not be
loaded or saved (its catalog entry). It carries a short traceback of the project's own frames
and the full one; the run prints the short one (``--traceback``: the full one) and the
session store keeps both in the session's summary, for ``hookrunner sessions show``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from ..kernel.blame import Culprit, culprit
from ..kernel.errors import MESSAGE_MAX, shorten, shown_path, text_of
from ..kernel.secrets import scrub
from .datasets import DatasetError
from .runners import NodeFailed

if TYPE_CHECKING:
    from .spec import PipelineSpec


@dataclass(frozen=True)
class Failure:
    """The cause of a failed run (JSON-ready: the session store keeps ``as_dict()``)."""

    kind: str  # "hook", "node", "dataset" or "run"
    message: str  # one line: who failed, where, and the error
    error: str  # "Type: message"
    node: str | None = None
    hook: str | None = None
    event: str | None = None
    dataset: str | None = None
    source: str | None = None  # "file:line" of the culprit's declaration
    traceback: str = ""  # the project's frames only
    traceback_full: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Failure:
        fields: dict[str, Any] = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**fields)


def _where(spec: PipelineSpec | None, path: tuple[str | int, ...] | None) -> str | None:
    if spec is None or path is None:
        return None
    line, _ = spec.doc.where(path)
    return f"{spec.path}:{line}"


def _shown(source: str | None) -> str:
    if not source:
        return ""
    file, _, line = source.rpartition(":")
    return f"{shown_path(file)}:{line}" if line.isdigit() else source


def describe(exc: BaseException, spec: PipelineSpec | None = None) -> Failure:
    """The ``Failure`` of ``exc``, the exception a run ended with; its texts are for people,
    so values from the environment are masked in them (as in ``RunResult.error``)."""
    failure = _describe(exc, spec)
    masked = {
        f.name: scrub(v)
        for f in fields(failure)
        if isinstance(v := getattr(failure, f.name), str) and v
    }
    return replace(failure, **masked)


def _describe(exc: BaseException, spec: PipelineSpec | None) -> Failure:
    from ..kernel.frames import full_traceback, short_traceback  # only a failure needs it

    if isinstance(exc, NodeFailed):
        error, node, who = exc.error, exc.node.name, exc.hook
        short, full = exc.tracebacks()
    else:
        error, node, who = exc, None, culprit(exc)
        short, full = short_traceback(exc), full_traceback(exc)
    # Shortened, and readable even when the error's __str__ raises (a hook's 15 MB message).
    said = shorten(text_of(error), MESSAGE_MAX)
    text = f"{type(error).__name__}: {said}"
    on = f" on node {node!r}" if node else ""
    if who is not None:
        return _hook(who, text, node, short, full, on)
    if isinstance(error, DatasetError) and error.dataset is not None:
        source = _where(spec, ("catalog", error.dataset)) if spec is not None else None
        declared = spec is not None and error.dataset in (spec.catalog_config or {})
        place = f" ({_shown(source)})" if declared and source else ""
        return Failure(
            "dataset",
            f"dataset {error.dataset!r}{place} failed{on}: {said}",
            text,
            node=node,
            dataset=error.dataset,
            source=source if declared else None,
            traceback=short,
            traceback_full=full,
        )
    if node is not None:
        source = _where(spec, spec.node_paths.get(node)) if spec is not None else None
        place = f" ({_shown(source)})" if source else ""
        return Failure(
            "node",
            f"node {node!r}{place} failed: {text}",
            text,
            node=node,
            source=source,
            traceback=short,
            traceback_full=full,
        )
    return Failure("run", text, text, traceback=short, traceback_full=full)


def _hook(who: Culprit, text: str, node: str | None, short: str, full: str, on: str) -> Failure:
    return Failure(
        "hook",
        f"{who} failed{on}: {text}",
        text,
        node=node,
        hook=who.hook,
        event=who.event,
        source=who.source,
        traceback=short,
        traceback_full=full,
    )
