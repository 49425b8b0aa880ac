"""Hooks registered from Python code (``HookRunner.register``), beside the manifests' hooks.

A host application hands over a callable or a hooks object with the settings a manifest entry
has. ``declare`` checks those settings with the manifest's own schema (the same problems in the
same words), located at the host's call, and makes a ``HookDecl`` holding the object itself;
``applied`` lays the registered declarations over a loaded manifest with the one override
rule (a name already there is replaced in place, a new one follows the files' hooks), so the
registry, the registry diff and ``hookrunner list`` treat them like any declaration.
"""

from __future__ import annotations

import copy
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any, NamedTuple

from .decl import HookDecl
from .document import Document
from .errors import Problem, ValidationError
from .manifest import Loader, Manifest
from .schema import check

Caller = tuple[str, int, int]  # file, line, column

# Frames in hookrunner's own files are skipped: the caller is the host's code.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# The schema checks a `call:`/`class:` value's spelling; the object itself is checked here.
_PLACEHOLDER = "python:object"
_NOT_HOOKS = (str, bytes, int, float, bool, list, tuple, dict, set, type(None))


def caller() -> Caller:
    """Where the host called from: the first frame outside hookrunner's package."""
    frame: Any = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:  # called from hookrunner itself, all the way up
        return ("<hookrunner>", 1, 1)
    column = 1
    try:  # the call's own column (co_positions: one entry per 2-byte instruction)
        positions = frame.f_code.co_positions()
        for _ in range(frame.f_lasti // 2):
            next(positions)
        start = next(positions)[2]
        column = start + 1 if start is not None else 1
    except (AttributeError, StopIteration):
        pass
    return (frame.f_code.co_filename, frame.f_lineno, column)


def kind_of(obj: object) -> str:
    """``"call"`` for anything callable (a function, method, partial, an object with
    ``__call__``); ``"class"`` for a hooks object: a class (made without arguments), a module
    or an instance, whose methods named after events register as a ``class:`` entry's do."""
    if inspect.isclass(obj) or isinstance(obj, ModuleType) or not callable(obj):
        return "class"
    return "call"


def declare(
    name: Any,
    event: Any,
    call: object,
    at: Caller,
    error_handler: Callable[..., Any] | None = None,
    **settings: Any,
) -> HookDecl:
    """The declaration ``register(name, event, call, **settings)`` makes; raises
    ``ValidationError`` with every problem of its settings, located at ``at``."""
    kind = kind_of(call)
    entry: dict[str, Any] = {"name": name, kind: _PLACEHOLDER}
    if event is not None:
        entry["event"] = event
    for key, value in settings.items():
        if value is None:
            continue  # not given: the schema's default, the event's or the settings'
        if key == "when" and isinstance(value, Mapping):
            value = copy.deepcopy(dict(value))  # later edits by the host change nothing
        entry[key] = value
    file, line, column = at
    doc = Document(file=file, data={"version": 1, "hooks": [entry]}, positions={(): (line, column)})
    label = name if isinstance(name, str) else None
    problems = [
        Problem(file, line, column, p.path[2:], p.message, p.hint, label)
        for p in check(doc, "hooks")
    ]
    if isinstance(call, _NOT_HOOKS):
        problems.append(
            Problem(
                file,
                line,
                column,
                ("call",),
                f"expected a callable or a hooks object, got {_a(call)}",
                "register() takes the object itself; a dotted path belongs in a manifest"
                if isinstance(call, str)
                else None,
                label,
            )
        )
    if error_handler is not None and not callable(error_handler):
        problems.append(
            Problem(
                file,
                line,
                column,
                ("error_handler",),
                f"expected a callable, got {_a(error_handler)}",
                "it is called with (error, hook, event) when the hook fails",
                label,
            )
        )
    if problems:
        raise ValidationError(problems)
    return HookDecl.from_code(entry, call, error_handler, at)


def _a(value: object) -> str:
    kind = type(value).__name__
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


class Overlay(NamedTuple):
    """What code laid over a runner's files: hooks registered (in registration order) and
    enable/disable switches of the files' hooks (name → enabled)."""

    decls: tuple[HookDecl, ...]
    switches: Mapping[str, bool]


def applied(
    manifest: Manifest, decls: Iterable[HookDecl], switches: Mapping[str, bool]
) -> Manifest:
    """``manifest`` with ``switches`` (name → enabled, from ``enable``/``disable``) set on its
    hooks, then ``decls`` laid over it: a name it has is replaced in place (``overrides``
    says so), a new one comes after its hooks, in registration order."""
    decls = list(decls)
    if not decls and not switches:
        return manifest
    loader = Loader.over(manifest)
    m = loader.m
    for i, d in enumerate(m.decls):
        wanted = switches.get(d.name)
        if wanted is not None and wanted != d.enabled:
            m.decls[i] = d.replace(enabled=wanted)
    for d in decls:
        loader.add_decl(d)
    return loader.result()
