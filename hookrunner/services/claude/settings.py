"""Writing hookrunner into Claude Code's settings (``.claude/settings.json``), and out again.

Claude Code reads ``{"hooks": {"<Event>": [{"matcher": "*", "hooks": [{"type": "command",
"command": "..."}]}]}}``. ``install`` gives every event of ``protocol.EVENTS`` one group that
runs ``hookrunner claude hook`` (matcher ``*``: hookrunner's own ``when:`` does the matching),
keeping every other setting and every other hook as it was; running it again changes nothing.
``uninstall`` removes hookrunner's handlers only. A changed file is written atomically, after
a copy of the previous one (``settings.json.bak``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...kernel.errors import HookrunnerError
from .protocol import EVENTS

SETTINGS = Path(".claude") / "settings.json"
# A handler is hookrunner's when its command runs `hookrunner claude hook` (however the
# executable is spelled: a path, `python -m hookrunner`).
_OURS = re.compile(r"(?:^|[\s/\\])hookrunner(?:\.exe)?['\"]?\s+claude\s+hook(?:\s|$)")


class SettingsError(HookrunnerError):
    """The settings file cannot be read as Claude Code settings (nothing was written)."""


@dataclass(frozen=True, slots=True)
class Change:
    """What ``install``/``uninstall`` did to the file."""

    path: Path
    changed: bool
    events: tuple[str, ...]  # the events whose hooks changed
    backup: Path | None = None


def command_line(
    executable: Sequence[str], hooks: Sequence[str] = (), timeout: float | None = None
) -> str:
    """The command Claude Code runs: ``executable`` (argv) ``claude hook`` and the options."""
    argv = [*executable, "claude", "hook"]
    for h in hooks:
        argv += ["--hooks", h]
    if timeout is not None:
        argv += ["--timeout", f"{timeout:g}"]
    return shlex.join(argv)


def is_ours(handler: Any) -> bool:
    return (
        isinstance(handler, dict)
        and handler.get("type") == "command"
        and isinstance(handler.get("command"), str)
        and _OURS.search(handler["command"]) is not None
    )


def install(path: Path, command: str, timeout: float | None = None) -> Change:
    """Give every mapped event one ``matcher: "*"`` group running ``command``."""
    handler: dict[str, Any] = {"type": "command", "command": command}
    if timeout is not None:
        handler["timeout"] = timeout

    def edit(hooks: dict[str, Any]) -> list[str]:
        changed = []
        for event in EVENTS:
            groups = _groups(hooks, event)
            before = json.dumps(groups)
            hooks[event] = _with_ours(groups, handler)
            if json.dumps(hooks[event]) != before:
                changed.append(event)
        return changed

    return _rewrite(path, edit)


def uninstall(path: Path) -> Change:
    """Remove hookrunner's handlers (and the groups and events they leave empty)."""

    def edit(hooks: dict[str, Any]) -> list[str]:
        changed = []
        for event in list(hooks):
            groups = _groups(hooks, event)
            kept = _without_ours(groups)
            if kept != groups:
                changed.append(event)
                if kept:
                    hooks[event] = kept
                else:
                    del hooks[event]
        return changed

    return _rewrite(path, edit)


def _groups(hooks: dict[str, Any], event: str) -> list[Any]:
    groups = hooks.get(event, [])
    if not isinstance(groups, list):
        raise SettingsError(f"hooks.{event} must be a list of matcher groups")
    return groups


def _without_ours(groups: list[Any]) -> list[Any]:
    """``groups`` without hookrunner's handlers; a group they leave empty goes too."""
    out = []
    for group in groups:
        handlers = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(handlers, list) or not any(is_ours(h) for h in handlers):
            out.append(group)
            continue
        rest = [h for h in handlers if not is_ours(h)]
        if rest:
            out.append({**group, "hooks": rest})
    return out


def _with_ours(groups: list[Any], handler: dict[str, Any]) -> list[Any]:
    """``groups`` with exactly one group of ours, ``{"matcher": "*", "hooks": [handler]}``:
    where a group of ours already was (the first), else last."""
    ours = {"matcher": "*", "hooks": [handler]}
    at = next(
        (
            i
            for i, g in enumerate(groups)
            if isinstance(g, dict)
            and isinstance(g.get("hooks"), list)
            and any(is_ours(h) for h in g["hooks"])
        ),
        None,
    )
    kept = _without_ours(groups)
    if at is None:
        return [*kept, ours]
    before = len(_without_ours(groups[:at]))
    return [*kept[:before], ours, *kept[before:]]


def _rewrite(path: Path, edit: Any) -> Change:
    settings = _read(path)
    hooks = settings.get("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f"{path}: 'hooks' must be an object of events")
    hooks = dict(hooks)
    changed = edit(hooks)
    if not changed:
        return Change(path, False, ())
    if hooks:
        settings["hooks"] = hooks
    else:
        settings.pop("hooks", None)
    backup = None
    if path.exists():
        backup = path.with_name(path.name + ".bak")
        _write(backup, path.read_text(encoding="utf-8"))
    _write(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return Change(path, True, tuple(changed), backup)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read it: {exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg} (fix it, or move it away)"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}:1:1: Claude Code settings are a JSON object")
    return data


def _write(path: Path, text: str) -> None:
    """Write ``text`` atomically (a temporary file renamed over ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
