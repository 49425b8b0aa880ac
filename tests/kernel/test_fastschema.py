"""The compiled schema check agrees with jsonschema on valid and invalid documents."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookrunner.kernel.fastschema import compile_schema
from hookrunner.kernel.schema import load_schema

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=1500),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-10, max_value=1500),
    st.sampled_from(
        [
            "",
            "x",
            "10s",
            "500ms",
            "2 minutes",
            "mod:fn",
            "pkg.mod.fn",
            "9bad:name",
            "notify",
            "wrap",
            "continue",
            "raise",
            "session_start",
            "before_node_run",
            "memory",
            "csv",
            "params:alpha",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["regex", "a", "path", "type"]), inner, max_size=2),
    ),
    max_leaves=6,
)


def _objects(keys: list[str]) -> st.SearchStrategy[dict]:
    return st.dictionaries(st.sampled_from(keys), VALUES, max_size=len(keys))


HOOK_KEYS = [
    "name",
    "event",
    "call",
    "class",
    "command",
    "args",
    "priority",
    "tryfirst",
    "trylast",
    "when",
    "with",
    "mode",
    "on_error",
    "error_handler",
    "timeout",
    "enabled",
    "bogus",
]
HOOK = st.one_of(
    _objects(HOOK_KEYS),
    st.fixed_dictionaries(
        {"name": st.sampled_from(["a", "b", ""]), "call": st.sampled_from(["m:f", "9x", ""])},
        optional={
            "event": st.sampled_from(["session_start", "custom_one", "bad name"]),
            "priority": st.integers(-1, 1001),
            "when": st.dictionaries(st.sampled_from(["node", "tags"]), VALUES, max_size=2),
            "timeout": st.sampled_from([1, 0, "10s", "x", -1.5]),
            "mode": st.sampled_from(["notify", "wrap", "nope"]),
        },
    ),
)
MANIFEST = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 2, True, 1.0])},
    optional={
        "hooks": st.lists(HOOK, max_size=3),
        "settings": _objects(["allowed_modules", "on_error", "timeout", "x"]),
        "events": st.dictionaries(
            st.sampled_from(["ok_name", "9bad", "x-y"]),
            _objects(["args", "style", "on_error", "parallel", "doc", "zzz"]),
            max_size=2,
        ),
        "include": VALUES,
        "forget": VALUES,
        "plugins": _objects(["discover", "disable", "other"]),
    },
)
NODE = _objects(["name", "func", "inputs", "outputs", "tags", "other"])
PIPELINE = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 2])},
    optional={
        "nodes": st.lists(NODE, max_size=3),
        "catalog": st.dictionaries(
            st.sampled_from(["raw", "model"]), _objects(["type", "path", "x"]), max_size=2
        ),
        "params": VALUES,
        "manifests": VALUES,
        "hooks": st.lists(HOOK, max_size=2),
        "forget": VALUES,
    },
)


def _pair(name: str):
    root, _, part = name.partition("#")
    schema = load_schema(root)
    if part:  # one definition, e.g. a single hook entry
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{part}"}
    fast = compile_schema(schema)
    assert fast is not None, f"{name} schema no longer compiles: fastschema needs a keyword"
    slow = jsonschema.validators.validator_for(schema)(schema)
    return fast, slow


@pytest.mark.parametrize(
    ("name", "strategy"), [("hooks", MANIFEST), ("hooks#hook", HOOK), ("pipeline", PIPELINE)]
)
def test_compiled_check_agrees_with_jsonschema(name, strategy):
    fast, slow = _pair(name)

    @settings(max_examples=200, deadline=None)
    @given(strategy)
    def agree(instance):
        assert fast(instance) == slow.is_valid(instance), instance

    agree()


def test_a_valid_manifest_passes_and_small_mistakes_fail():
    fast, _ = _pair("hooks")
    good = {
        "version": 1,
        "settings": {"on_error": "continue", "timeout": "10s"},
        "hooks": [
            {"name": "a", "event": "session_start", "call": "m:f", "priority": 10},
            {"name": "b", "class": "m:C", "args": {"x": 1}},
            {"name": "c", "event": "post_file_edit", "command": ["ruff", "{file_path}"]},
            {
                "name": "d",
                "event": "x",
                "call": "m.f",
                "when": {"node": ["a*", "b*"], "tags": {"regex": "x"}},
            },
        ],
    }
    assert fast(good)
    for path, bad in [
        (("hooks", 0, "priority"), 1001),
        (("hooks", 0, "priority"), True),
        (("hooks", 1, "call"), "m:g"),  # class and call together
        (("hooks", 0, "timeout"), "soon"),
        (("hooks", 0, "mode"), "sometimes"),
        (("settings", "extra"), 1),
        (("version",), 2),
    ]:
        doc = {
            **good,
            "settings": dict(good["settings"]),
            "hooks": [dict(h) for h in good["hooks"]],
        }
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = bad
        assert not fast(doc), path


def test_unknown_keywords_fall_back_to_jsonschema():
    assert compile_schema({"type": "object", "dependentRequired": {"a": ["b"]}}) is None
    assert compile_schema({"$ref": "https://example.com/other.json"}) is None
