"""Shell completion that answers before a Tab feels slow: commands, options and their values.

The shell calls ``hookrunner`` with ``_HOOKRUNNER_COMPLETE=complete_bash`` (or ``_zsh``,
``_fish``) on every Tab. Importing the CLI framework alone takes longer than a Tab may, so
``launch`` answers here, from ``TREE`` (the commands and what each option takes, kept equal to
the typer app by a test) and from the files at hand: events (the catalogue and the custom
events of ``hooks.yaml`` or the ``--hooks`` files), runners, schema names, the pipeline's node
names and tags, and session ids (newest first, and ``last``) from the nearest store. Only the
standard library and PyYAML are imported; anything it does not know goes to typer.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

# What follows an option: None for a flag, else the kind of value (see VALUES); a command's
# positional arguments in order ("*" before a kind: any number of them).
TREE: dict[str, Any] = {
    "validate": {"options": {"--format": "format", "--no-import": None}, "args": ["*path"]},
    "list": {
        "options": {
            "--event": "event",
            "--hooks": "path",
            "--format": "format",
            "--events": None,
            "--pipeline": "path",
            "--kedro": "path",
            "--env": "text",
        },
        "args": [],
    },
    "emit": {
        "options": {
            "--session": "session",
            "--data": "text",
            "--hooks": "path",
            "--format": "format",
            "--traceback": None,
        },
        "args": ["event"],
    },
    "schema": {"options": {}, "args": ["schema"]},
    "watch": {"options": {"--hooks": "path", "--format": "format"}, "args": []},
    "run": {
        "options": {
            "--runner": "runner",
            "--workers": "text",
            "--address": "text",
            "--tags": "tag",
            "--nodes": "node",
            "--from-nodes": "node",
            "--to-nodes": "node",
            "--params": "text",
            "--params-new": None,
            "--resume": "session",
            "--store": "path",
            "--quiet": None,
            "-q": None,
            "--hooks": "path",
            "--watch": None,
            "--traceback": None,
        },
        "args": ["path"],
    },
    "sessions": {
        "commands": {
            "list": {
                "options": {"--store": "path", "--limit": "text", "--format": "format"},
                "args": [],
            },
            "show": {
                "options": {
                    "--store": "path",
                    "--format": "format",
                    "--calls": None,
                    "--html": "path",
                    "--traceback": None,
                },
                "args": ["session"],
            },
        }
    },
    "init": {"options": {"--force": None, "--from-kedro": "path"}, "args": ["path"]},
    "claude": {
        "commands": {
            "hook": {"options": {"--hooks": "path", "--timeout": "text"}, "args": []},
            "install": {
                "options": {
                    "--settings": "path",
                    "--uninstall": None,
                    "--hooks": "path",
                    "--timeout": "text",
                    "--command": "text",
                },
                "args": [],
            },
        }
    },
}
ROOT_OPTIONS = ("--version", "--install-completion", "--show-completion", "--help")
# `--runner` names: equal to hookrunner.pipeline.RUNNERS (a test holds them together);
# importing the runners to ask would cost more than a Tab may.
RUNNER_NAMES = ("sequential", "thread", "dask")
SCHEMA_NAMES = ("hooks", "pipeline")
STORE = Path(".hookrunner") / "sessions.db"


def _yaml(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    except Exception:  # a half-written file while the user types: nothing to offer
        return None


def _option_values(words: list[str], option: str) -> list[str]:
    out = []
    for i, w in enumerate(words):
        if w == option and i + 1 < len(words):
            out.append(words[i + 1])
        elif w.startswith(option + "="):
            out.append(w.partition("=")[2])
    return out


class _Line:
    """The command line being completed: the command, its words, its positionals."""

    def __init__(self, command: str | None, words: list[str], positionals: list[str]):
        self.command = command
        self.words = words
        self.positionals = positionals

    def pipeline(self) -> Path:
        if self.command == "run" and self.positionals:
            return Path(self.positionals[0])
        given = _option_values(self.words, "--pipeline")
        return Path(given[-1]) if given else Path("pipeline.yaml")


def _events(line: _Line) -> list[str]:
    from ..kernel.events import BUILTIN  # the catalogue: a plain table, quick to import

    names = list(BUILTIN)
    hooks = [Path(p) for p in _option_values(line.words, "--hooks")] or [Path("hooks.yaml")]
    for path in hooks:
        data = _yaml(path)
        events = data.get("events") if isinstance(data, dict) else None
        if isinstance(events, dict):
            names += [str(e) for e in events if str(e) not in names]
    return names


def _nodes(line: _Line) -> list[str]:
    data = _yaml(line.pipeline())
    nodes = data.get("nodes") if isinstance(data, dict) else None
    out = []
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict):
            name = node.get("name") or str(node.get("func", "")).rpartition(":")[2]
            if name:
                out.append(str(name).rpartition(".")[2] if "name" not in node else str(name))
    return out


def _tags(line: _Line) -> list[str]:
    data = _yaml(line.pipeline())
    nodes = data.get("nodes") if isinstance(data, dict) else None
    tags: dict[str, None] = {}
    for node in nodes if isinstance(nodes, list) else []:
        value = node.get("tags") if isinstance(node, dict) else None
        for tag in [value] if isinstance(value, str) else value or []:
            tags[str(tag)] = None
    return list(tags)


def _store(line: _Line) -> Path | None:
    given = _option_values(line.words, "--store")
    if given:
        return Path(given[-1])
    if line.command == "run":  # a run's store lies beside its pipeline file
        return line.pipeline().resolve().parent / STORE
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):  # as `sessions` finds it: the nearest above
        if (folder / STORE.parent).is_dir():
            return folder / STORE
    return None


def _sessions(line: _Line) -> list[str]:
    import sqlite3  # only for this kind of value

    path = _store(line)
    if path is None or not path.is_file():
        return ["last"]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1)
        try:
            rows = conn.execute(
                "SELECT id FROM sessions ORDER BY started DESC, id DESC LIMIT 50"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return ["last"]
    return ["last", *(r[0] for r in rows)]


VALUES: dict[str, Callable[[_Line], list[str]]] = {
    "event": _events,
    "runner": lambda line: list(RUNNER_NAMES),
    "schema": lambda line: list(SCHEMA_NAMES),
    "node": _nodes,
    "tag": _tags,
    "session": _sessions,
    "format": lambda line: ["text", "json"],
}


def candidates(args: list[str], incomplete: str) -> list[str] | None:
    """What may come next after ``args`` (the words before the cursor), given the word
    being typed; None: leave it to the shell's own file completion."""
    spec: dict[str, Any] = {"commands": TREE}
    command: str | None = None
    words: list[str] = []
    positionals: list[str] = []
    expecting: str | None = None  # the kind of value the previous option asks for
    for word in args:
        if expecting is not None:
            words.append(word)
            expecting = None
            continue
        if "commands" in spec and not word.startswith("-"):
            if word not in spec["commands"]:
                return []
            spec = spec["commands"][word]
            command = word if command is None else command
            continue
        words.append(word)
        options = spec.get("options", {})
        if word.startswith("-"):
            if "=" not in word and options.get(word) is not None:
                expecting = options[word]
            continue
        positionals.append(word)
    line = _Line(command, words, positionals)
    if "commands" in spec:  # a command (or a sub-command) comes next
        names = list(spec["commands"])
        if incomplete.startswith("-"):
            names = list(ROOT_OPTIONS) if command is None else ["--help"]
        return [n for n in names if n.startswith(incomplete)]
    options = spec.get("options", {})
    prefix = ""
    if expecting is None and incomplete.startswith("-") and "=" in incomplete:
        name, _, incomplete = incomplete.partition("=")
        expecting, prefix = options.get(name), name + "="
    if expecting is None and incomplete.startswith("-"):
        return [o for o in [*options, "--help"] if o.startswith(incomplete)]
    if expecting is None:
        kinds = spec.get("args", [])
        n = len(positionals)
        kind = kinds[n] if n < len(kinds) else (kinds[-1] if kinds else None)
        expecting = kind.lstrip("*") if kind else None
    if expecting is None or expecting not in VALUES:
        return None  # a path, or free text: the shell knows better
    head, comma, last = incomplete.rpartition(",")
    if expecting in ("node", "tag") and comma:  # --nodes a,b,<Tab>
        prefix, incomplete = prefix + head + ",", last
    values = VALUES[expecting](line)
    return [prefix + v for v in values if v.startswith(incomplete)]


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an open quote while typing
        return shlex.split(text + '"') if text.count('"') % 2 else text.split()


def answer(shell: str) -> str | None:
    """The completion reply for ``shell`` from the environment the shell set, or None
    when this module does not speak that shell (typer answers)."""
    if shell == "bash":
        words = _split(os.environ.get("COMP_WORDS", ""))
        cword = int(os.environ.get("COMP_CWORD", "0"))
        args, incomplete = words[1:cword], (words[cword] if cword < len(words) else "")
        found = candidates(args, incomplete)
        return "\n".join(found or [])
    if shell in ("zsh", "fish"):
        raw = os.environ.get("_TYPER_COMPLETE_ARGS", "")
        words = _split(raw)[1:]
        incomplete = ""
        if words and not raw.endswith(" "):
            incomplete = words.pop()
        found = candidates(words, incomplete)
        if shell == "fish":
            action = os.environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
            if action == "is-args":
                raise SystemExit(0 if found else 1)
            return "\n".join(found or [])
        if not found:
            return "_files"
        items = "\n".join('"' + v.replace('"', '""').replace(":", r"\\:") + '"' for v in found)
        return f"_arguments '*: :(({items}))'"
    return None
