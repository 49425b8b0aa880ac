"""Does each hook's ``when:`` apply to the pipeline at hand? (pre-commit's check-hooks-apply)

A matcher on ``node``, ``tags`` or ``dataset`` that matches nothing in the pipeline file is
almost always a typo (``node: keep_larg``): the hook would silently never run. That is a
warning, not an error (the same manifest may serve several pipelines), shown by ``hookrunner
validate pipeline.yaml`` and before a run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from ..kernel.errors import Problem, did_you_mean, quoted
from ..kernel.events import BUILTIN
from ..kernel.matchers import patterns

if TYPE_CHECKING:
    from pathlib import Path

    from ..kernel.manifest import Manifest
    from .graph import Pipeline


class PipelineSpec(Protocol):
    """What this check reads of a loaded pipeline (``spec.PipelineSpec``, which calls it:
    named here by shape, so the two modules do not import each other)."""

    @property
    def path(self) -> Path: ...
    @property
    def pipeline(self) -> Pipeline: ...
    @property
    def catalog_config(self) -> dict[str, dict[str, Any]]: ...


# The matcher keys a pipeline knows every value of, and what they are called.
_WHAT = {"node": "node", "tags": "tag", "dataset": "dataset"}
_ARG = {"node": "node", "tags": "node", "dataset": "dataset_name"}


def _values(spec: PipelineSpec) -> dict[str, list[str]]:
    nodes = spec.pipeline.nodes
    datasets = dict.fromkeys(
        [*spec.catalog_config, *(d for n in nodes for d in (*n.inputs, *n.outputs))]
    )
    return {
        "node": [n.name for n in nodes],
        "tags": sorted({t for n in nodes for t in n.tags}),
        "dataset": list(datasets),
    }


def unmatched_when(manifest: Manifest, spec: PipelineSpec) -> list[Problem]:
    """A warning for each ``when:`` key on node, tags or dataset that no value of the
    pipeline matches."""
    values = _values(spec)
    warnings: list[Problem] = []
    for decl in manifest.decls:
        if not decl.valid or not decl.when or decl.doc is None:
            continue
        event = BUILTIN.get(decl.event) if decl.event else None
        for key, wanted in decl.when.items():
            if key not in _WHAT or (event is not None and _ARG[key] not in event.args):
                continue
            specs: list[Any] = wanted if isinstance(wanted, list) else [wanted]
            try:
                compiled = patterns(wanted, key)
            except Exception:  # an invalid regex is an error the registry reports
                continue
            names = values[key]
            if any(p.match(v) for p in compiled for v in names):
                continue
            shown = ", ".join(
                quoted(str(s.get("regex")) if isinstance(s, dict) else str(s)) for s in specs
            )
            what = _WHAT[key]
            close = did_you_mean(str(specs[0]), names) if not isinstance(specs[0], dict) else None
            listing = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            problem = decl.doc.problem(
                decl.path + ("when", key),
                f"{shown} matches no {what} of {spec.path.name}, so this hook never runs "
                "in this pipeline",
                close or (f"its {what}s: {listing}" if names else f"it has no {what}s"),
                hook=decl.name,
            )
            warnings.append(replace(problem, severity="warning"))
    return warnings
