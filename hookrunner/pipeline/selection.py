"""Which nodes a run runs: Kedro's node selection, then what ``--resume`` can skip."""

from __future__ import annotations

from ..kernel.errors import did_you_mean
from .catalog import Catalog
from .context import RunOptions, UsageError
from .graph import Pipeline


def _check_names(kind: str, names: list[str], pipeline: Pipeline) -> None:
    for name in names:
        if name not in pipeline:
            hint = did_you_mean(name, [n.name for n in pipeline.nodes])
            raise UsageError(f"{kind}: no node named {name!r}" + (f" ({hint})" if hint else ""))


def select_nodes(pipeline: Pipeline, options: RunOptions) -> Pipeline:
    """Kedro's selection: each filter applies to the whole pipeline; the result is their
    intersection, in the pipeline's order."""
    keep = {n.name for n in pipeline.nodes}
    if options.nodes:
        _check_names("--nodes", options.nodes, pipeline)
        keep &= {n.name for n in pipeline.only_nodes(*options.nodes).nodes}
    if options.from_nodes:
        _check_names("--from-nodes", options.from_nodes, pipeline)
        keep &= {n.name for n in pipeline.from_nodes(*options.from_nodes).nodes}
    if options.to_nodes:
        _check_names("--to-nodes", options.to_nodes, pipeline)
        keep &= {n.name for n in pipeline.to_nodes(*options.to_nodes).nodes}
    if options.tags:
        keep &= {n.name for n in pipeline.only_nodes_with_tags(*options.tags).nodes}
    if not keep:
        raise UsageError("the node selection is empty: no node matches all the given filters")
    if len(keep) == len(pipeline):  # nothing left out: the pipeline itself, not a copy
        return pipeline
    return pipeline.only_nodes(*keep)


def plan_resume(
    pipeline: Pipeline, catalog: Catalog, checkpointed: set[str]
) -> tuple[Pipeline, list[str]]:
    """Skip a node when the resumed session checkpointed it, its outputs are persisted, and
    no node upstream of it runs again (a re-run upstream may change its inputs)."""
    if not checkpointed:
        return pipeline, []
    runs: set[str] = set()
    skipped: list[str] = []
    for node in pipeline.nodes:
        if (
            node.name in checkpointed
            and all(catalog.persisted(o) for o in node.outputs)
            and not any(u in runs for u in pipeline.upstream[node.name])
        ):
            skipped.append(node.name)
        else:
            runs.add(node.name)
    return pipeline.only_nodes(*runs), skipped


def why_not_skipped(
    pipeline: Pipeline, catalog: Catalog, checkpointed: set[str], limit: int = 3
) -> list[str]:
    """Why ``--resume`` skips none of these nodes: a reason per node (the first ``limit``),
    in the words of ``plan_resume``'s three conditions."""
    if not checkpointed:
        return ["the resumed session checkpointed no node"]
    reasons: list[str] = []
    runs: set[str] = set()
    for node in pipeline.nodes:
        if node.name not in checkpointed:
            reasons.append(f"{node.name!r} was not checkpointed by that session")
        else:
            memory = [o for o in node.outputs if not catalog.persistent(o)]
            missing = [o for o in node.outputs if catalog.persistent(o) and not catalog.exists(o)]
            upstream = [u for u in pipeline.upstream[node.name] if u in runs]
            if memory:
                reasons.append(
                    f"{node.name!r}: its output {memory[0]!r} lives in memory only "
                    "(declare it in the catalog with a file type to resume after it)"
                )
            elif missing:
                reasons.append(f"{node.name!r}: its output {missing[0]!r} does not exist any more")
            elif upstream:
                reasons.append(f"{node.name!r}: node {upstream[0]!r} upstream of it runs again")
        runs.add(node.name)
        if len(reasons) >= limit:
            break
    return reasons
