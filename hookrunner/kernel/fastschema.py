"""A compiled yes/no JSON Schema check for the keywords hookrunner's schemas use.

Validating a 10,000-hook manifest with jsonschema costs seconds and importing it costs tens of
milliseconds on every ``hookrunner validate``. Valid files are the common case, so a schema is
compiled once into nested closures that only answer "valid?"; jsonschema is imported and run
only when the answer is no, to explain the problems with its precise paths. A schema using a
keyword this module does not know compiles to ``None`` and jsonschema does all the work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import HookrunnerError

Check = Callable[[Any], bool]

# Keywords that say nothing about validity.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "$defs"}
)


class Unsupported(HookrunnerError):
    """The schema uses a keyword this compiler does not implement."""


def _is_integer(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer())


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _all_of(checks: tuple[Check, ...]) -> Check:
    """Every check passes; without a generator per call (a pipeline file's nodes are checked
    one by one, so these closures are the whole cost of validating it)."""
    if len(checks) == 2:
        a, b = checks
        return lambda v: a(v) and b(v)
    if len(checks) == 3:
        a, b, c = checks
        return lambda v: a(v) and b(v) and c(v)

    def every(v: Any) -> bool:
        for c in checks:
            if not c(v):
                return False
        return True

    return every


# Strings a pattern accepted, per pattern: the same target or dataset name is written many
# times in a large file, and a regular expression costs more than a set lookup.
_SEEN_MAX = 10_000


class _Compiler:
    def __init__(self, root: dict[str, Any]):
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, target: str) -> Check:
        if target not in self.refs:
            if not target.startswith("#/"):
                raise Unsupported(f"$ref {target!r}")
            node: Any = self.root
            for part in target[2:].split("/"):
                node = node[part]
            box: list[Check] = []
            self.refs[target] = lambda v: box[0](v)  # recursion-safe placeholder
            box.append(self.compile(node))
        return self.refs[target]

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        checks: list[Check] = []
        obj: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _ANNOTATIONS:
                continue
            if key in ("properties", "required", "additionalProperties", "propertyNames"):
                obj[key] = value
                continue
            checks.append(self.keyword(key, value))
        if obj:
            checks.append(self.object(obj))
        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        return _all_of(tuple(checks))

    def keyword(self, key: str, value: Any) -> Check:
        if key == "type":
            names = [value] if isinstance(value, str) else list(value)
            tests = tuple(_TYPES[n] for n in names)
            if len(tests) == 1:
                return tests[0]

            def some_type(v: Any) -> bool:
                for t in tests:
                    if t(v):
                        return True
                return False

            return some_type
        if key == "enum":
            if all(isinstance(x, str) for x in value):
                allowed = frozenset(value)
                return lambda v: isinstance(v, str) and v in allowed
            options = tuple(value)
            return lambda v: any(_equal(v, o) for o in options)
        if key == "const":
            return lambda v: _equal(v, value)
        if key == "pattern":
            search = re.compile(value).search
            seen: set[str] = set()

            def matches(v: Any) -> bool:
                if v.__class__ is not str:  # a str subclass is searched each time
                    return not isinstance(v, str) or search(v) is not None
                if v in seen:
                    return True
                if search(v) is None:
                    return False
                if len(seen) >= _SEEN_MAX:
                    seen.clear()
                seen.add(v)
                return True

            return matches
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= value
        if key == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= value
        if key == "minimum":
            return lambda v: not _number(v) or v >= value
        if key == "maximum":
            return lambda v: not _number(v) or v <= value
        if key == "exclusiveMinimum":
            return lambda v: not _number(v) or v > value
        if key == "items":
            if not isinstance(value, (dict, bool)):
                raise Unsupported("items as a list")
            item = self.compile(value)

            def each(v: Any) -> bool:
                if isinstance(v, list):
                    for x in v:
                        if not item(x):
                            return False
                return True

            return each
        if key in ("oneOf", "anyOf", "allOf"):
            subs = tuple(self.compile(s) for s in value)
            if key == "allOf":
                return _all_of(subs) if len(subs) > 1 else subs[0]
            if key == "anyOf":

                def any_of(v: Any) -> bool:
                    for s in subs:
                        if s(v):
                            return True
                    return False

                return any_of

            def one_of(v: Any) -> bool:
                found = False
                for s in subs:
                    if s(v):
                        if found:
                            return False
                        found = True
                return found

            return one_of
        if key == "not":
            sub = self.compile(value)
            return lambda v: not sub(v)
        if key == "$ref":
            return self.ref(value)
        raise Unsupported(key)

    def object(self, obj: dict[str, Any]) -> Check:
        props = {k: self.compile(s) for k, s in (obj.get("properties") or {}).items()}
        required = tuple(obj.get("required") or ())
        extra = obj.get("additionalProperties", True)
        extra_check = None if isinstance(extra, bool) else self.compile(extra)
        names = self.compile(obj["propertyNames"]) if "propertyNames" in obj else None
        items = tuple(props.items())

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for k in required:
                if k not in v:
                    return False
            for k, sub in items:
                if k in v and not sub(v[k]):
                    return False
            if extra is False or extra_check is not None or names is not None:
                for k, value in v.items():
                    if names is not None and not names(k):
                        return False
                    if k in props:
                        continue
                    if extra is False:
                        return False
                    if extra_check is not None and not extra_check(value):
                        return False
            return True

        return check


def compile_schema(schema: dict[str, Any]) -> Check | None:
    """A function telling whether an instance is valid, or None if the schema is unsupported."""
    try:
        return _Compiler(schema).compile(schema)
    except (Unsupported, KeyError, TypeError, re.error):
        return None
