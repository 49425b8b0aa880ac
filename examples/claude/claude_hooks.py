"""Claude Code hooks written as plain Python functions (see hooks.yaml beside this file).

- ``guard_rm`` (pre_tool_execution, Bash): refuses ``rm -rf`` of anything outside the project.
- ``format_edited`` (post_tool_execution, Edit/Write on *.py): runs ``ruff format`` on the file
  and tells Claude when the file changed under it.
- ``log_prompt`` (user_prompt_submit): appends every prompt to .hookrunner/prompts.jsonl.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from hookrunner import Veto

# Words that end one simple command and start the next (`a && rm -rf x`, `a; b | c`).
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "\n"}
# Words that run the command after them (`sudo rm -rf /`).
_PREFIXES = {"sudo", "command", "exec", "nohup", "time", "env", "xargs", "doas"}


def project_dir(cwd: str | None) -> Path:
    """The project: Claude Code's CLAUDE_PROJECT_DIR, else the folder the agent works in."""
    return Path(os.environ.get("CLAUDE_PROJECT_DIR") or cwd or os.getcwd()).resolve()


def guard_rm(tool_input, cwd):
    """Veto ``rm -rf`` (any spelling: ``-fr``, ``-r -f``, ``--recursive --force``) whose
    target is outside the project, or is the project itself."""
    command = tool_input.get("command") or ""
    project = project_dir(cwd)
    here: Path | None = Path(cwd or project)
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        if "rm" in command:
            raise Veto(f"cannot read this command safely (unclosed quote?): {command}") from None
        return None
    for argv in _commands(words):
        if argv[0] in ("cd", "pushd"):  # later relative targets are relative to that folder
            here = _resolve(argv[1] if len(argv) > 1 else "~", here) if here else None
            continue
        for target in _forced_recursive_targets(argv):
            path = _resolve(target, here) if here or os.path.isabs(target) else None
            if path is None:
                raise Veto(f"rm -rf of {target!r}: cannot tell where that is")
            if path == project:
                raise Veto(f"rm -rf of the whole project ({project})")
            if project not in path.parents:
                raise Veto(f"rm -rf outside the project: {path} (the project is {project})")
    return None


def _commands(words):
    argv: list[str] = []
    for word in words:
        if word in _SEPARATORS:
            if argv:
                yield argv
            argv = []
        else:
            argv.append(word)
    if argv:
        yield argv


def _forced_recursive_targets(argv):
    """The targets of ``argv`` when it is an ``rm`` that is both recursive and forced."""
    while argv and (argv[0] in _PREFIXES or ("=" in argv[0] and not argv[0].startswith("-"))):
        argv = argv[1:]
    if not argv or os.path.basename(argv[0]) != "rm":
        return []
    recursive = force = False
    targets = []
    options = True
    for arg in argv[1:]:
        if options and arg == "--":
            options = False
        elif options and arg.startswith("--"):
            recursive |= arg == "--recursive"
            force |= arg == "--force"
        elif options and arg.startswith("-") and len(arg) > 1:
            recursive |= "r" in arg or "R" in arg
            force |= "f" in arg
        else:
            targets.append(arg)
    return targets if recursive and force else []


def _resolve(target, here):
    expanded = os.path.expandvars(os.path.expanduser(target))
    if "$" in expanded or "`" in expanded:
        return None  # a variable or command substitution the shell would fill in
    path = Path(expanded)
    return (path if path.is_absolute() else here / path).resolve()


def format_edited(file_path, tool_name):
    """``ruff format`` the file the edit touched; returns a note for Claude when it changed
    (hookrunner passes it on as additionalContext: Claude's copy of the file is stale)."""
    ruff = shutil.which("ruff")
    path = Path(file_path)
    if ruff is None or not path.is_file():
        return None
    before = path.read_bytes()
    subprocess.run([ruff, "format", "--quiet", str(path)], capture_output=True, timeout=15)
    if path.read_bytes() == before:
        return None
    return {"formatted": f"{path} was reformatted by ruff after {tool_name}; read it again"}


def log_prompt(prompt, session_id, cwd):
    """Append the prompt to ``<project>/.hookrunner/prompts.jsonl`` (one JSON line each)."""
    log = project_dir(cwd) / ".hookrunner" / "prompts.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"ts": time.time(), "session_id": session_id, "prompt": prompt})
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
