"""What changed between two registry generations, in the words a user edits manifests in.

A reload swaps whole registries, so the only way to tell a user what their save did is to
compare the two snapshots: hooks added, removed, changed (and which settings), and hooks whose
place in their event's order moved.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..kernel.decl import HookDecl
from ..kernel.errors import ResolveError
from ..kernel.registry import Registry
from ..kernel.resolve import split_target
from ..kernel.runtime.hook import Hook

# Hook settings compared between generations (``source`` moves with every edit above a hook).
_FIELDS = ("kind", "target", "mode", "priority", "order", "enabled", "on_error", "timeout", "where")
# Settings whose values are safe to print (a target or command may carry an env secret).
_SHOWN = tuple(k for k in _FIELDS if k != "target")
# Declaration settings that change behaviour without showing in ``Hook.describe()``.
_ENTRY_KEYS = ("with", "when", "args", "error_handler", "command", "code")


@dataclass(frozen=True)
class HookChange:
    """One hook (``event``, ``name``) and, for a changed hook, what differs."""

    event: str
    name: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.event}{': ' + self.detail if self.detail else ''})"


@dataclass
class RegistryDiff:
    """The difference between generation ``old`` and generation ``new``."""

    old: int
    new: int
    added: list[HookChange] = field(default_factory=list)
    removed: list[HookChange] = field(default_factory=list)
    changed: list[HookChange] = field(default_factory=list)
    reordered: list[HookChange] = field(default_factory=list)
    events_added: list[str] = field(default_factory=list)
    events_removed: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.reordered
            or self.events_added
            or self.events_removed
        )

    def lines(self) -> list[str]:
        """One line per change, for logs and ``hookrunner watch``."""
        out = [f"added {c}" for c in self.added]
        out += [f"removed {c}" for c in self.removed]
        out += [f"changed {c}" for c in self.changed]
        out += [f"reordered {c}" for c in self.reordered]
        out += [f"event added {e}" for e in self.events_added]
        out += [f"event removed {e}" for e in self.events_removed]
        if self.modules:
            out.append("re-imported " + ", ".join(self.modules))
        return out or ["no hook changes"]

    def summary(self) -> str:
        parts = [
            f"{len(items)} {word}"
            for items, word in (
                (self.added, "added"),
                (self.removed, "removed"),
                (self.changed, "changed"),
                (self.reordered, "reordered"),
            )
            if items
        ]
        return ", ".join(parts) or "no hook changes"

    def as_dict(self) -> dict[str, Any]:
        def names(items: list[HookChange]) -> list[dict[str, str]]:
            return [{"event": c.event, "name": c.name, "detail": c.detail} for c in items]

        return {
            "old": self.old,
            "new": self.new,
            "added": names(self.added),
            "removed": names(self.removed),
            "changed": names(self.changed),
            "reordered": names(self.reordered),
            "events_added": list(self.events_added),
            "events_removed": list(self.events_removed),
            "modules": list(self.modules),
        }


def _entries(registry: Registry) -> dict[str, HookDecl]:
    return {d.name: d for d in registry.manifest.decls}


def _entry(entries: dict[str, HookDecl], hook: Hook) -> HookDecl | None:
    if hook.name in entries:
        return entries[hook.name]
    suffix = "." + hook.event  # a hook class registers "<decl name>.<event>"
    if hook.name.endswith(suffix):
        return entries.get(hook.name[: -len(suffix)])
    return None


def _quick(hook: Hook, decl: HookDecl | None) -> tuple[Any, ...]:
    """What ``_fingerprint`` compares, as one tuple (most hooks of a reload are unchanged:
    equal tuples need no dict)."""
    own = (
        hook.kind,
        hook.target,
        hook.mode,
        hook.priority,
        hook.rank,
        hook.enabled and not hook.off,
        hook.on_error,
        hook.timeout,
        hook.where,
    )
    if decl is None:
        return own
    command = decl.target if decl.kind == "command" else None
    return (*own, decl.bound, decl.when, decl.args, decl.error_handler, command)


def _fingerprint(hook: Hook, decl: HookDecl | None) -> dict[str, Any]:
    info = hook.describe()
    out = {k: info[k] for k in _FIELDS}
    settings = decl.fingerprint() if decl is not None else {}
    for key in _ENTRY_KEYS:
        out[key] = settings.get(key)
    return out


def _module_of(decl: HookDecl | None) -> str | None:
    if decl is None or decl.kind not in ("call", "class"):
        return None
    target = decl.target
    if not isinstance(target, str):
        return None
    try:
        return split_target(target)[0]
    except ResolveError:
        return None


def _moved(old_order: list[str], new_order: list[str]) -> list[str]:
    """Names outside the longest run kept in the same relative order (the fewest "moves")."""
    position = {name: i for i, name in enumerate(new_order)}
    seq = [position[n] for n in old_order if n in position]
    # Longest increasing subsequence, remembering which elements belong to it.
    tails: list[int] = []
    tails_at: list[int] = []
    parent = [-1] * len(seq)
    for i, value in enumerate(seq):
        j = bisect.bisect_left(tails, value)
        if j == len(tails):
            tails.append(value)
            tails_at.append(i)
        else:
            tails[j] = value
            tails_at[j] = i
        parent[i] = tails_at[j - 1] if j else -1
    keep: set[int] = set()
    k = tails_at[-1] if tails_at else -1
    while k != -1:
        keep.add(seq[k])
        k = parent[k]
    return [new_order[v] for v in sorted(set(seq) - keep)]


def diff_registries(
    old: Registry,
    new: Registry,
    modules: Iterable[str] = (),
    names: Collection[str] | None = None,
) -> RegistryDiff:
    """Compare two generations; hooks whose module was re-imported count as changed.

    ``names``: only the declarations of these names may differ (a change from code), so
    only their hooks are compared, and only the order of the events they are in."""
    reimported = set(modules)
    result = RegistryDiff(old.generation, new.generation, modules=sorted(reimported))
    old_entries, new_entries = _entries(old), _entries(new)
    keys: set[tuple[str, str]] | None = None
    if names is not None:
        made = [r.compiled[n][1] for n in names for r in (old, new) if n in r.compiled]
        keys = {(h.event, h.name) for hooks in made for h in hooks}
    events = None if keys is None else {event for event, _ in keys}
    old_hooks = [h for h in old.hooks if events is None or h.event in events]
    new_hooks = [h for h in new.hooks if events is None or h.event in events]
    before = {(h.event, h.name): h for h in old_hooks}
    after = {(h.event, h.name): h for h in new_hooks}
    old_by_event: dict[str, list[str]] = {}
    new_by_event: dict[str, list[str]] = {}
    for h in old_hooks:  # registry hooks are sorted by event, then effective order
        old_by_event.setdefault(h.event, []).append(h.name)
    for h in new_hooks:
        new_by_event.setdefault(h.event, []).append(h.name)
    for event, new_names in new_by_event.items():
        old_names = old_by_event.get(event, [])
        for name in new_names:
            if keys is not None and (event, name) not in keys:
                continue  # an unchanged declaration's hook: the same settings
            hook = after[(event, name)]
            entry = _entry(new_entries, hook)
            if (event, name) not in before:
                result.added.append(HookChange(event, name))
                continue
            old_hook = before[(event, name)]
            old_entry = _entry(old_entries, old_hook)
            detail: list[str] = []
            if _quick(old_hook, old_entry) != _quick(hook, entry):
                was = _fingerprint(old_hook, old_entry)
                now = _fingerprint(hook, entry)
                detail = [
                    f"{k} {was[k]!r} → {now[k]!r}" if k in _SHOWN else k
                    for k in _FIELDS + _ENTRY_KEYS
                    if was[k] != now[k]
                ]
            if _module_of(entry) in reimported:
                detail.append("code")
            if detail:
                result.changed.append(HookChange(event, name, ", ".join(detail)))
        common = set(old_names) & set(new_names)
        for name in _moved(
            [n for n in old_names if n in common], [n for n in new_names if n in common]
        ):
            place = new_names.index(name) + 1
            result.reordered.append(HookChange(event, name, f"now #{place}"))
    for key, hook in before.items():
        if key not in after:
            result.removed.append(HookChange(hook.event, hook.name))
    result.events_added = [e for e in new.events if e not in old.events]
    result.events_removed = [e for e in old.events if e not in new.events]
    return result
