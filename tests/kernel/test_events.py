"""The event catalogue is the single source: schema file, schema enum, README and `list --events`."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from hookrunner.kernel import docs
from hookrunner.kernel.events import BUILTIN, CATALOGUE, SESSION_ARGS
from hookrunner.kernel.schema import build_hooks_schema, load_schema, schema_text

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_is_the_generated_schema():
    on_disk = json.loads((ROOT / "schemas" / "hooks.schema.json").read_text())
    assert on_disk == build_hooks_schema()
    # The copy shipped inside the package is the same file.
    assert json.loads(schema_text("hooks")) == on_disk == load_schema("hooks")


def test_schema_event_enum_is_the_catalogue():
    schema = build_hooks_schema()
    event = schema["$defs"]["hook"]["properties"]["event"]
    enums = [branch["enum"] for branch in event["anyOf"] if "enum" in branch]
    assert enums == [[e.name for e in CATALOGUE]]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_readme_event_section_is_generated_from_the_catalogue():
    text = (ROOT / "README.md").read_text()
    assert docs.START in text and docs.END in text
    assert docs.render_readme(text) == text, "run: python -m hookrunner.docs README.md"
    for e in CATALOGUE:
        assert f"| `{e.name}` |" in text


def test_list_events_covers_the_catalogue(cli):
    result = cli("list", "--events", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == [e.name for e in CATALOGUE]
    for row in rows:
        spec = BUILTIN[row["name"]]
        assert row["args"] == list(spec.all_args)
        assert (row["style"], row["on_error"], row["group"]) == (
            spec.style,
            spec.on_error,
            spec.group,
        )
    table = cli("list", "--events")
    assert table.returncode == 0
    for e in CATALOGUE:
        assert e.name in table.stdout


def test_kedro_events_match_kedros_own_specs():
    """Argument names are exact: compare the pipeline group with kedro.framework.hooks.specs."""
    from kedro.framework.hooks import specs

    kedro_specs = {}
    for _, cls in inspect.getmembers(specs, inspect.isclass):
        if cls.__module__ != specs.__name__:
            continue
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            kedro_specs[name] = tuple(inspect.signature(fn).parameters)[1:]
    ours = {e.name: e.args for e in CATALOGUE if e.group == "pipeline"}
    assert ours == kedro_specs
    assert all(BUILTIN[name].on_error == "raise" for name in ours)


def test_spec_call_styles_and_defaults():
    """§5: styles and default policies per group, as the contract fixes them."""
    vetoes = {e.name for e in CATALOGUE if e.style == "veto"}
    assert vetoes == {"pre_checkpoint", "pre_tool_execution", "pre_reflection_store"}
    assert {e.name for e in CATALOGUE if e.style == "wrap"} == {
        "session_metadata",
        "session_feedback",
    }
    assert {e.name for e in CATALOGUE if e.style == "slot"} == {
        "config_hook",
        "init_hook",
        "run_hook",
        "build_s3_client",
    }
    for e in CATALOGUE:
        if e.group != "pipeline":
            assert e.on_error == "continue", e.name
        if e.group == "session":
            assert e.optional[: len(SESSION_ARGS)] == SESSION_ARGS
    assert BUILTIN["build_s3_client"].args == ("session_kwargs", "client_kwargs")
    assert BUILTIN["session_metadata"].all_args == (
        "original_func",
        "action",
        "session_id",
        "metadata",
        "keys",
    )


def test_schema_command_prints_the_shipped_schemas(cli):
    result = cli("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == build_hooks_schema()
    result = cli("schema", "hooks")
    assert result.stdout == schema_text("hooks")
    result = cli("schema", "pipeline")
    assert result.returncode == 0 and json.loads(result.stdout)["type"] == "object"
    result = cli("schema", "nope")
    assert result.returncode == 2
    assert "unknown schema 'nope'" in result.stderr and "Traceback" not in result.stderr
