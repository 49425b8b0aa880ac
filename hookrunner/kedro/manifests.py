"""A Kedro project's hooks manifests: loaded in order, switched, checked, compiled.

The base environment's files load first and the run environment's after them, as if each
included the one before: a hook whose name was loaded already is replaced in place, and
``forget:`` drops one. Then the switches from the environment apply, by declaration name:
``HOOKRUNNER_DISABLE=name1,name2`` switches hooks off and ``HOOKRUNNER_ENABLE`` switches
``enabled: false`` hooks on (names or globs, comma-separated; a name no hook has is a
problem, located in the variable). Everything is checked as ``hookrunner validate`` checks
it, plus what cannot work inside Kedro: a ``mode: wrap`` hook on a Kedro event (pluggy calls
Kedro's hooks; nothing can hand a wrapper the call of the others). ``plugins: {kedro: true}``
is left out: Kedro registers its installed plugins itself.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping

from ..host.runner import HookRunner
from ..kernel.decl import HookDecl
from ..kernel.document import bulk, load_text
from ..kernel.errors import Problem, ValidationError, did_you_mean
from ..kernel.manifest import Loader, Manifest
from ..kernel.registered import applied
from ..kernel.registry import Registry, build
from ..kernel.runtime.hook import State
from .errors import KedroManifestError
from .locate import Source
from .order import KEDRO_EVENTS

DISABLE = "HOOKRUNNER_DISABLE"
ENABLE = "HOOKRUNNER_ENABLE"


def read(sources: Iterable[Source], environ: dict[str, str] | None = None) -> Manifest:
    """The manifests in load order (problems are in ``Manifest.problems``)."""
    loader = Loader(environ)
    with bulk():
        for source in sources:
            if source.text is None:
                loader.add_file(source.file)
                continue
            try:
                doc = load_text(source.text, source.file)
            except ValidationError as exc:
                loader.m.problems.extend(exc.problems)
                continue
            loader.add_document(doc)
        # ``plugins: {kedro: true}`` is for hookrunner run: here Kedro registers its plugins
        # itself (and DISABLE_HOOKS_FOR_PLUGINS decides), so the manifest must not again.
        loader.m.kedro_plugins = False
        loader.add_plugins()
    return loader.result()


def switches(
    decls: list[HookDecl], environ: Mapping[str, str] | None = None
) -> tuple[dict[str, bool], list[Problem]]:
    """``HOOKRUNNER_ENABLE`` then ``HOOKRUNNER_DISABLE`` as name → enabled (disable wins),
    with a problem for each name or glob that matches no declaration."""
    env = os.environ if environ is None else environ
    names = [d.name for d in decls]
    out: dict[str, bool] = {}
    problems: list[Problem] = []
    for variable, enabled in ((ENABLE, True), (DISABLE, False)):
        value = env.get(variable, "")
        offset = 0
        for item in value.split(","):
            column = offset + (len(item) - len(item.lstrip())) + 1
            offset += len(item) + 1
            pattern = item.strip()
            if not pattern:
                continue
            matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
            if not matched:
                hint = did_you_mean(pattern, names) or (
                    f"the hooks are: {', '.join(names)}" if names else "the manifest has no hooks"
                )
                problems.append(
                    Problem(variable, 1, column, (), f"no hook is named {pattern!r}", hint)
                )
            for name in matched:
                out[name] = enabled
    return out, problems


def kedro_problems(registry: Registry) -> list[Problem]:
    """What validates but cannot work inside Kedro's hook manager."""
    problems: list[Problem] = []
    for decl, hooks in registry.compiled.values():
        wraps = sorted({h.event for h in hooks if h.mode == "wrap" and h.event in KEDRO_EVENTS})
        if wraps:
            problems.append(
                decl.problem(
                    "mode",
                    f"under kedro run a wrapper cannot run around Kedro's own {wraps[0]} hooks "
                    "(pluggy calls them)",
                    "drop mode: wrap (a tryfirst hook and a trylast hook do the before and "
                    "after), or run the pipeline with hookrunner run",
                )
            )
    return problems


def load(
    sources: list[Source],
    switched: Mapping[str, bool] | None = None,
    state: State | None = None,
) -> tuple[HookRunner, dict[str, bool]]:
    """The compiled manifests as a runner, with the switches applied (name → enabled), or
    ``KedroManifestError`` with every problem.

    ``switched`` are switches decided already (a worker gets the driver's); otherwise they
    are read from the environment."""
    manifest = read(sources)
    problems: list[Problem] = []
    if switched is None:
        switched, problems = switches(manifest.decls)
    laid = applied(manifest, (), dict(switched))
    try:
        registry = build(laid, state or State(), generation=1)
    except ValidationError as exc:
        raise KedroManifestError(exc.problems + problems) from None
    problems += kedro_problems(registry)
    if problems:
        raise KedroManifestError(problems)
    try:  # the layers above may refuse a runner (settings.telemetry without the extra)
        runner = HookRunner(registry, [s.file for s in sources if s.text is None])
    except ValidationError as exc:
        raise KedroManifestError(exc.problems) from None
    return runner, dict(switched)
