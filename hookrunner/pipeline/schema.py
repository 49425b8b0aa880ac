"""The pipeline file's JSON Schema, and regenerating the shipped schema files.

``python -m hookrunner.pipeline.schema`` (from a source checkout) rewrites
``schemas/hooks.schema.json`` and ``schemas/pipeline.schema.json`` from their builders; a test
keeps the files equal to them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..kernel.schema import DOTTED, build_hooks_schema, hook_entry_schema, schema_dir
from .datasets import BUILTIN_TYPES

_NAMES = {"type": "string", "minLength": 1}


def build_pipeline_schema() -> dict[str, Any]:
    """The pipeline file (§7); its local ``hooks:`` use the manifest's hook entry schema."""
    names_or_one = {"oneOf": [_NAMES, {"type": "array", "items": _NAMES}]}
    wiring = {
        "oneOf": [
            _NAMES,
            {"type": "array", "items": _NAMES},
            {"type": "object", "additionalProperties": _NAMES},
        ]
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hookrunner.dev/schemas/pipeline.schema.json",
        "title": "hookrunner pipeline file (pipeline.yaml)",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "nodes"],
        "properties": {
            "version": {"const": 1},
            "manifests": {
                "description": "hook manifests to load (default: hooks.yaml beside this file)",
                "type": "array",
                "items": _NAMES,
            },
            "settings": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "allowed_modules": {
                        "description": "import allow-list (module prefixes), joined to the "
                        "manifests' lists: the union governs every dotted path of the run",
                        "type": "array",
                        "items": {"type": "string"},
                    },
                },
            },
            "hooks": {"type": "array", "items": {"$ref": "#/$defs/hook"}},
            "forget": {"type": "array", "items": {"type": "string"}},
            "params": {"type": "object", "description": "read by nodes as params:NAME"},
            "conf_source": {
                "description": "Kedro's conf folder for context.config_loader (default: conf)",
                "type": "string",
                "minLength": 1,
            },
            "catalog": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {
                            "description": "a built-in type or a class as pkg.mod:Class",
                            "anyOf": [
                                {"enum": list(BUILTIN_TYPES)},
                                {"type": "string", "pattern": DOTTED},
                            ],
                        },
                        "path": {"type": "string", "minLength": 1},
                    },
                },
            },
            "nodes": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}},
        },
        "$defs": {
            "hook": hook_entry_schema(),
            "node": {
                "type": "object",
                "additionalProperties": False,
                "required": ["func"],
                "properties": {
                    "name": {"type": "string", "pattern": r"^\S+$"},
                    "func": {"type": "string", "pattern": DOTTED, "description": "pkg.mod:fn"},
                    "inputs": {
                        "description": "list: positional; mapping: parameter → dataset",
                        **wiring,
                    },
                    "outputs": {
                        "description": "str; list (unpacked); mapping (returned key → dataset)",
                        "oneOf": [{"type": "null"}, *wiring["oneOf"]],
                    },
                    "tags": names_or_one,
                },
            },
        },
    }


BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "hooks": build_hooks_schema,
    "pipeline": build_pipeline_schema,
}


def write_schemas() -> None:
    """Rewrite the shipped schema files of the source checkout from their builders."""
    base = schema_dir()
    if base is None:
        raise SystemExit("run this from a source checkout (schemas/ not found)")
    for name, builder in BUILDERS.items():
        (base / f"{name}.schema.json").write_text(json.dumps(builder(), indent=2) + "\n")


if __name__ == "__main__":
    write_schemas()
