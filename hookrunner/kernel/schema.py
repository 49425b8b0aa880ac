"""JSON Schemas: the manifest's, built from the event catalogue; checking any shipped schema.

``schemas/hooks.schema.json`` is ``build_hooks_schema()``'s output and
``schemas/pipeline.schema.json`` the pipeline layer's (``hookrunner.pipeline.schema``;
``python -m hookrunner.pipeline.schema`` rewrites both); a test keeps the files equal to the
builders so they never drift from the catalogue. ``check`` validates a document against a
shipped schema by name and turns every error into a located ``Problem``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

from .document import Document
from .errors import Path, Problem, did_you_mean, format_path, quoted, shorten
from .events import CATALOGUE, POLICIES, STYLES
from .secrets import MASK

_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*([:.][A-Za-z_][A-Za-z0-9_.]*)?$"

# Durations: a number of seconds, or digits with a unit (``parse_duration`` reads them).
DURATION = r"^([0-9]{1,6}(?:\.[0-9]+)?)(ms|s|m|h)?$"
MAX_SECONDS = 86400  # a day: anything longer is a mistake (and .inf would overflow the clock)
_DURATION = re.compile(DURATION)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> float | None:
    """``10s`` / ``500ms`` / ``2m`` / a number of seconds → seconds (more than 0, at most
    ``MAX_SECONDS``); ValueError otherwise (``duration_problem`` says why)."""
    if value is None:
        return None
    why = duration_problem(value)
    if why is not None:
        raise ValueError(f"invalid duration {value!r}: {why}")
    if isinstance(value, (int, float)):
        return float(value)
    m = _DURATION.match(str(value).strip())
    assert m is not None
    return float(m.group(1)) * _UNITS[m.group(2)]


def duration_problem(value: Any) -> str | None:
    """Why ``value`` is not a usable duration, or None. The schema checks the form; this
    also catches what JSON Schema cannot: ``.nan`` (no comparison fails on it) and a
    string such as ``999999h`` over the limit."""
    if isinstance(value, bool):
        return "expected a number of seconds or a string such as 10s"
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value).strip())
        if not m:
            return "expected a number of seconds or a string such as 500ms, 10s, 2m, 1h"
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if math.isnan(seconds):
        return "must be a number of seconds, not .nan"
    if not 0 < seconds <= MAX_SECONDS:
        return f"must be more than 0 and at most a day ({MAX_SECONDS}s), got {value}"
    return None


# Where manifests and pipeline files hold durations ("*": every item of a list).
DURATION_PATHS = (("settings", "timeout"), ("hooks", "*", "timeout"))


def _duration_problems(doc: Document, skip: set[Path]) -> list[Problem]:
    out = []
    for pattern in DURATION_PATHS:
        for path, value in _matching(doc.data, pattern, ()):
            if path in skip or any(path[: len(u)] == u for u in doc.unresolved):
                continue
            why = duration_problem(value)
            if why is not None:
                if path in doc.secret_paths:  # say what is wrong without the value
                    why = "is not a usable duration (its value comes from the environment)"
                out.append(doc.problem(path, why, "write e.g. 500ms, 10s, 2m or 1h"))
    return out


def _matching(node: Any, pattern: tuple[str, ...], at: Path) -> Iterator[tuple[Path, Any]]:
    if not pattern:
        yield at, node
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        for i, item in enumerate(node if isinstance(node, list) else ()):
            yield from _matching(item, rest, at + (i,))
    elif isinstance(node, dict) and head in node:
        yield from _matching(node[head], rest, at + (head,))


def _duration() -> dict[str, Any]:
    return {
        "description": "seconds as a number, or a string such as 500ms, 10s, 2m",
        "oneOf": [
            {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SECONDS},
            {"type": "string", "pattern": DURATION},
        ],
    }


def hook_entry_schema() -> dict[str, Any]:
    """The schema of one entry of ``hooks:`` (shared with the pipeline file's local hooks)."""
    events = [e.name for e in CATALOGUE]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "oneOf": [
            {
                "required": ["call"],
                "not": {"anyOf": [{"required": ["class"]}, {"required": ["command"]}]},
            },
            {
                "required": ["class"],
                "not": {"anyOf": [{"required": ["call"]}, {"required": ["command"]}]},
            },
            {
                "required": ["command"],
                "not": {"anyOf": [{"required": ["call"]}, {"required": ["class"]}]},
            },
        ],
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "unique within a file"},
            "event": {
                "description": "a built-in event, or one declared under `events:`",
                "anyOf": [{"enum": events}, {"type": "string", "pattern": _IDENT}],
            },
            "call": {"type": "string", "pattern": DOTTED, "description": "pkg.mod:attr"},
            "class": {"type": "string", "pattern": DOTTED, "description": "a hooks class"},
            "args": {
                "type": "object",
                "description": "constructor keyword arguments",
                "default": {},
            },
            "command": {
                "description": "argv (no shell); {arg} placeholders are filled from the event",
                "oneOf": [
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    {"type": "string", "minLength": 1},
                ],
            },
            "priority": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 500},
            "tryfirst": {"type": "boolean", "default": False},
            "trylast": {"type": "boolean", "default": False},
            "when": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [
                        {"type": ["string", "number", "boolean"]},
                        {
                            "type": "array",
                            "items": {"type": ["string", "number", "boolean"]},
                            "minItems": 1,
                        },
                        {
                            "type": "object",
                            "required": ["regex"],
                            "additionalProperties": False,
                            "properties": {"regex": {"type": "string"}},
                        },
                    ]
                },
            },
            "with": {"type": "object", "description": "extra keyword arguments", "default": {}},
            "mode": {"enum": list(STYLES)},
            "on_error": {"enum": list(POLICIES)},
            "error_handler": {"type": "string", "pattern": DOTTED},
            "timeout": _duration(),
            "enabled": {"type": "boolean", "default": True},
            "where": {
                "description": "distributed runs: a node/dataset hook runs on the worker "
                "that runs the node (default) or in the driver",
                "enum": ["worker", "driver"],
                "default": "worker",
            },
        },
    }


def telemetry_schema() -> dict[str, Any]:
    """``settings.telemetry``: OpenTelemetry traces; what is left out comes from ``OTEL_*``."""
    return {
        "description": "OpenTelemetry traces (pip install 'hookrunner[otel]'); keys left out "
        "come from the OTEL_* environment variables",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": {
                "description": "false: no traces, whatever the OTEL_* variables say",
                "type": "boolean",
                "default": True,
            },
            "exporter": {
                "description": "otlp (OTLP/HTTP), console (stdout) or none; default "
                "OTEL_TRACES_EXPORTER, else otlp",
                "enum": ["otlp", "console", "none"],
            },
            "endpoint": {
                "description": "the collector's OTLP/HTTP base URL (/v1/traces is added); "
                "default OTEL_EXPORTER_OTLP_ENDPOINT",
                "type": "string",
                "pattern": "^https?://",
            },
            "headers": {
                "description": "extra HTTP headers for the exporter (use ${env:NAME} for tokens)",
                "type": "object",
                "additionalProperties": {"type": "string"},
            },
            "service_name": {
                "description": "service.name; default OTEL_SERVICE_NAME, else hookrunner",
                "type": "string",
                "minLength": 1,
            },
            "hook_calls": {
                "description": "each hook call as a child span of its emit, or as an event on it",
                "enum": ["spans", "events"],
                "default": "spans",
            },
            "payloads": {
                "description": "event arguments recorded as span attributes (hookrunner.arg.NAME, "
                "a shortened repr); none by default",
                "type": "array",
                "items": {"type": "string", "pattern": _IDENT},
            },
        },
    }


def kedro_settings_schema() -> dict[str, Any]:
    """``settings.kedro``: what the manifest's hooks do under ``kedro run`` (hookrunner.kedro)."""
    return {
        "description": "under kedro run (pip install 'hookrunner[kedro]'); ignored elsewhere",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "workers": {
                "description": "ParallelRunner: run the manifest's node and dataset hooks in "
                "each worker process (each worker builds the manifest from the same files)",
                "type": "boolean",
                "default": False,
            },
            "store": {
                "description": "the session store, relative to the Kedro project's folder "
                "(default .hookrunner/sessions.db)",
                "type": "string",
                "minLength": 1,
            },
        },
    }


def build_hooks_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hookrunner.dev/schemas/hooks.schema.json",
        "title": "hookrunner manifest (hooks.yaml)",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {
            "version": {"const": 1},
            "settings": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "allowed_modules": {"type": "array", "items": {"type": "string"}},
                    "on_error": {"enum": list(POLICIES)},
                    "timeout": _duration(),
                    "timing": {"enum": ["auto", "exact"]},
                    "telemetry": telemetry_schema(),
                    "kedro": kedro_settings_schema(),
                },
            },
            "include": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "events": {
                "type": "object",
                "propertyNames": {"pattern": _IDENT},
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "args": {"type": "array", "items": {"type": "string", "pattern": _IDENT}},
                        "style": {"enum": list(STYLES)},
                        "on_error": {"enum": list(POLICIES)},
                        "parallel": {"type": "boolean"},
                        "doc": {"type": "string"},
                    },
                },
            },
            "plugins": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "discover": {"type": "boolean"},
                    "kedro": {
                        "type": "boolean",
                        "description": "also load installed Kedro plugins (kedro.hooks entry points)",
                    },
                    "disable": {"type": "array", "items": {"type": "string"}},
                },
            },
            "hooks": {"type": "array", "items": {"$ref": "#/$defs/hook"}},
            "forget": {"type": "array", "items": {"type": "string"}},
        },
        "$defs": {"hook": hook_entry_schema()},
    }


SCHEMA_NAMES = ("hooks", "pipeline")  # the shipped schema files, by name


def checkout_folder(name: str) -> FsPath | None:
    """``name`` (e.g. ``schemas``) in the source checkout hookrunner runs from, if it does."""
    folder = FsPath(__file__).resolve().parents[2] / name  # <checkout>/hookrunner/kernel/
    return folder if folder.is_dir() else None


def _schema_dir() -> FsPath | None:
    return checkout_folder("schemas")


@functools.cache
def schema_text(name: str) -> str:
    """The shipped schema file's text (installed package data, else the source tree)."""
    filename = f"{name}.schema.json"
    # Installed, the schemas are the folder hookrunner/schemas; in a checkout, schemas/ beside
    # the package. Read as files first: importlib.resources costs more than the check.
    for folder in (FsPath(__file__).resolve().parents[1] / "schemas", _schema_dir()):
        if folder is not None and (folder / filename).is_file():
            return (folder / filename).read_text("utf-8")
    try:
        from importlib import resources  # lazy: it pulls in tempfile, shutil and random

        return resources.files("hookrunner.schemas").joinpath(filename).read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        base = _schema_dir()
        if base is None:
            raise
        return (base / filename).read_text("utf-8")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads(schema_text(name))


@functools.cache
def _validator(name: str) -> Any:
    import jsonschema  # lazy: it is the slowest import on the validate path

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@functools.cache
def _compiled(name: str) -> Any:
    """The compiled yes/no check (``fastschema``); jsonschema only explains failures."""
    from .fastschema import compile_schema

    return compile_schema(load_schema(name))


def _expected(error: Any) -> tuple[str, str | None]:
    """A short message and hint for one jsonschema error."""
    v, val, inst = error.validator, error.validator_value, error.instance
    if v == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in inst if k not in allowed] if isinstance(inst, dict) else []
        key = extra[0] if extra else "?"
        return f"unknown key {quoted(key)}", did_you_mean(key, allowed) or (
            f"allowed keys: {', '.join(allowed)}" if allowed else None
        )
    if v == "required":
        missing = [k for k in val if isinstance(inst, dict) and k not in inst]
        if not missing:
            return error.message, None
        return f"missing required key {missing[0]!r}", _REQUIRED_HINTS.get(missing[0])
    if v == "type":
        want = val if isinstance(val, str) else " or ".join(val)
        return f"expected {_article(want)}, got {_json_type(inst)}", None
    if v in ("minimum", "maximum", "exclusiveMinimum"):
        rng = error.schema
        lo, hi = rng.get("minimum"), rng.get("maximum")
        if lo is not None and hi is not None:
            return f"must be between {lo} and {hi}, got {shorten(inst)}", None
        what = {"minimum": "at least", "maximum": "at most"}.get(v, "more than")
        return f"must be {what} {val}, got {shorten(inst)}", None
    if v == "enum":
        hint = did_you_mean(str(inst), [str(x) for x in val])
        if len(val) > 8:  # a long list (the event names) helps nobody inline
            path = list(error.absolute_path)
            what = "event" if path and path[-1] == "event" else "value"
            return f"unknown {what} {quoted(inst)}", hint or "see `hookrunner list --events`"
        return f"must be one of: {', '.join(map(str, val))}", hint
    if v == "const":
        return f"must be {val!r}", None
    if v == "pattern":
        return _format_problem(str(val), inst)
    if v == "minLength":
        return "must not be empty", None
    if v == "minItems":
        return "must not be empty", None
    if v == "oneOf" and error.schema is not None and "call" in error.schema.get("properties", {}):
        kinds = [k for k in ("call", "class", "command") if isinstance(inst, dict) and k in inst]
        if not kinds:
            return "needs one of 'call', 'class' or 'command'", None
        return f"has both {' and '.join(repr(k) for k in kinds)}", "keep exactly one of them"
    if v in ("oneOf", "anyOf"):
        best = _best_context(error)
        if best is not None:
            return _expected(best)
    return error.message, None


# What each pattern accepts, in words: a format error always shows the accepted syntax.
_FORMATS = {
    DURATION: "a duration: a number of seconds, or a number with a unit: 500ms, 10s, 2m, 1h",
    DOTTED: "a dotted path: 'package.module:function' or 'package.module.function'",
    _IDENT: "a name: letters, digits and '_', not starting with a digit",
    r"^\S+$": "a name without spaces",
}
_UNITS_SAID = {
    "ms": ("ms", "msec", "msecs", "millisecond", "milliseconds"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
}


def _format_problem(pattern: str, value: Any) -> tuple[str, str | None]:
    """The message for a value that does not match ``pattern``, and a fix for it if one is
    plain to see (``10 seconds`` → ``10s``, ``pkg:`` → name the function)."""
    accepted = _FORMATS.get(pattern, f"text matching {pattern}")
    message = f"{value!r} is not {accepted}"
    text = str(value).strip()
    hint: str | None = None
    if pattern == DURATION:
        m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)", text)
        unit = next(
            (u for u, words in _UNITS_SAID.items() if m and m.group(2).lower() in words), None
        )
        hint = f"write {m.group(1)}{unit}" if m and unit else None
    elif pattern == DOTTED:
        module, colon, attr = text.partition(":")
        if colon and not attr:
            hint = f"name what to import after the ':', e.g. '{module}:function'"
        elif text.endswith(")"):
            hint = f"name the callable without calling it: {text[: text.index('(')]!r}"
        elif "/" in text or text.endswith(".py") or ".py:" in text:
            dotted = text.replace(".py", "").replace("/", ".")
            hint = f"use the module's dotted name, not a file path: {dotted!r}"
        elif " " in text:
            hint = "remove the spaces"
    elif pattern == r"^\S+$":
        hint = f"write {'_'.join(text.split())!r}"
    return message, hint


_REQUIRED_HINTS = {
    "version": "start the file with `version: 1`",
    "name": "every hook needs a name, unique within its file",
}


def _best_context(error: Any) -> Any:
    ctx = list(getattr(error, "context", None) or [])
    if not ctx:
        return None
    # A branch that looked inside the value (a list's item) matched its type: it explains best.
    deeper = [e for e in ctx if len(e.relative_path) > 0]
    if deeper:
        return max(deeper, key=lambda e: len(e.relative_path))
    # A value of the wrong type (an integer event name) is best told so, not matched to an enum.
    if all(e.validator in ("type", "enum") for e in ctx) and not isinstance(error.instance, str):
        typed_only = [e for e in ctx if e.validator == "type"]
        if typed_only:
            return typed_only[0]
    # Prefer a sub-error from the branch whose type matched the instance.
    typed = [e for e in ctx if e.validator != "type"]
    return (typed or ctx)[0]


def _leaf(error: Any) -> Any:
    """The sub-error that explains an anyOf/oneOf failure (not the call/class/command choice)."""
    while error.validator in ("anyOf", "oneOf") and "call" not in (error.schema or {}).get(
        "properties", {}
    ):
        best = _best_context(error)
        if best is None:
            break
        error = best
    return error


def _json_type(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _article(word: str) -> str:
    names = {"object": "a mapping", "array": "a list", "integer": "an integer", "null": "null"}
    if word in names:
        return names[word]
    return ("an " if word[:1] in "aeiou" else "a ") + word


# Hook entries already seen to be valid, per schema (their validity depends on nothing else).
# Hot reload re-checks a 50-hook file after a one-line edit: only the edited entry is new.
_VALID_HOOKS: dict[str, set[str]] = {}
_VALID_HOOKS_MAX = 100_000


def _skip_known_hooks(name: str, instance: Any) -> tuple[Any, list[int] | None]:
    """``instance`` with hook entries known to be valid left out, and the kept indices."""
    hooks = instance.get("hooks") if isinstance(instance, dict) else None
    known = _VALID_HOOKS.get(name)
    if not known or not isinstance(hooks, list) or not hooks:
        return instance, None
    keep = [i for i, item in enumerate(hooks) if repr(item) not in known] or [0]
    if len(keep) == len(hooks):
        return instance, None
    return {**instance, "hooks": [hooks[i] for i in keep]}, keep


def _remember_hooks(name: str, instance: Any, keep: list[int] | None, bad: set[int]) -> None:
    hooks = instance.get("hooks") if isinstance(instance, dict) else None
    if not isinstance(hooks, list):
        return
    known = _VALID_HOOKS.setdefault(name, set())
    if len(known) > _VALID_HOOKS_MAX:
        known.clear()
    for i in keep if keep is not None else range(len(hooks)):
        if i not in bad:
            known.add(repr(hooks[i]))


def check(doc: Document, name: str) -> list[Problem]:
    """Validate ``doc`` against schema ``name``."""
    instance = doc.data
    problems: list[Problem] = []
    checked, keep = _skip_known_hooks(name, instance)
    valid = _compiled(name)
    if valid is not None and valid(checked):
        errors = []  # the common case, without importing jsonschema
    else:
        errors = list(_validator(name).iter_errors(checked))
    paths = [tuple(e.absolute_path) for e in errors]
    if keep is not None:  # back to the document's own hook indices
        paths = [
            ("hooks", keep[p[1]]) + p[2:] if len(p) > 1 and p[0] == "hooks" else p for p in paths
        ]
    _remember_hooks(
        name, instance, keep, {p[1] for p in paths if p[:1] == ("hooks",) and len(p) > 1}
    )
    # Where a value has the wrong type, the other complaints about it are noise.
    wrong_type = {p for e, p in zip(errors, paths, strict=True) if e.validator == "type"}
    for error, rel in zip(errors, paths, strict=True):
        if error.validator != "type" and rel in wrong_type:
            continue
        leaf = _leaf(error)
        path = rel + tuple(leaf.absolute_path)[len(error.absolute_path) :]
        error = leaf
        secret = path in doc.secret_paths
        if secret:  # explained without the value, which is the environment's
            error.instance = MASK
        message, hint = _expected(error)
        key = False
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            extra = [k for k in error.instance if k not in allowed]
            if extra:
                path, key = path + (extra[0],), True
        if any(path[: len(u)] == u for u in doc.unresolved):
            continue  # its ${env:...} is reported already; what is left of it is no value
        if secret:
            hint = None  # a fix would spell the value out
        problems.append(doc.problem(path, message, hint, key=key))
    problems += _duration_problems(doc, {p.path for p in problems})
    problems.sort(key=lambda p: (p.line, p.column, format_path(p.path)))
    return problems


def schema_dir() -> FsPath | None:
    """The source checkout's ``schemas/`` folder, when hookrunner runs from one."""
    return _schema_dir()
