"""``hookrunner claude install``: merge hookrunner into .claude/settings.json and out again."""

from __future__ import annotations

import json

from hookrunner.services.claude.protocol import EVENTS

EXISTING = {
    "permissions": {"allow": ["Bash(npm test)"], "deny": ["Read(.env)"]},
    "env": {"FOO": "bar"},
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Bash",
                "hooks": [{"type": "command", "command": "~/bin/audit-bash.sh", "timeout": 5}],
            }
        ],
        "Notification": [{"hooks": [{"type": "command", "command": "notify-send Claude"}]}],
        "PermissionRequest": [{"matcher": "*", "hooks": [{"type": "command", "command": "x"}]}],
    },
    "model": "opus",
}

OURS = {"type": "command", "command": "hookrunner claude hook"}


def _settings(project):
    return project.root / ".claude" / "settings.json"


def _write(project, data):
    path = _settings(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=4) + "\n"
    path.write_text(text)
    return text


def test_install_merges_into_settings_with_other_hooks(project, cli):
    before = _write(project, EXISTING)
    done = cli("claude", "install", "--command", "hookrunner", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"installed hookrunner in .claude/settings.json for {len(EVENTS)} events: "
        + ", ".join(EVENTS)
    )
    assert "Claude Code runs: hookrunner claude hook" in done.stdout
    assert "the previous file is saved as .claude/settings.json.bak" in done.stdout
    data = json.loads(_settings(project).read_text())
    # Every other setting and every other hook as it was, in place.
    assert {k: v for k, v in data.items() if k != "hooks"} == {
        k: v for k, v in EXISTING.items() if k != "hooks"
    }
    assert list(data) == list(EXISTING)
    hooks = data["hooks"]
    assert hooks["PreToolUse"] == [
        EXISTING["hooks"]["PreToolUse"][0],
        {"matcher": "*", "hooks": [OURS]},
    ]
    assert hooks["Notification"] == [
        EXISTING["hooks"]["Notification"][0],
        {"matcher": "*", "hooks": [OURS]},
    ]
    assert hooks["PermissionRequest"] == EXISTING["hooks"]["PermissionRequest"]  # not ours
    for event in EVENTS:
        ours = [g for g in hooks[event] if OURS in g["hooks"]]
        assert ours == [{"matcher": "*", "hooks": [OURS]}], event
    assert (project.root / ".claude" / "settings.json.bak").read_text() == before

    # Idempotent: a second run changes nothing, not even the backup.
    after = _settings(project).read_text()
    (project.root / ".claude" / "settings.json.bak").unlink()
    again = cli("claude", "install", "--command", "hookrunner", cwd=project.root)
    assert again.returncode == 0
    assert again.stdout == (
        "hookrunner is already installed in .claude/settings.json; nothing changed\n"
    )
    assert _settings(project).read_text() == after
    assert not (project.root / ".claude" / "settings.json.bak").exists()


def test_reinstall_with_options_replaces_ours_in_place(project, cli):
    _write(project, EXISTING)
    assert cli("claude", "install", "--command", "hookrunner", cwd=project.root).returncode == 0
    done = cli(
        "claude",
        "install",
        "--command",
        "/opt/venv/bin/hookrunner",
        "--hooks",
        "agent hooks.yaml",
        "--timeout",
        "30",
        cwd=project.root,
    )
    assert done.returncode == 0, done.stderr
    hooks = json.loads(_settings(project).read_text())["hooks"]
    handler = {
        "type": "command",
        "command": "/opt/venv/bin/hookrunner claude hook --hooks 'agent hooks.yaml' --timeout 30",
        "timeout": 30.0,
    }
    assert hooks["PreToolUse"] == [
        EXISTING["hooks"]["PreToolUse"][0],
        {"matcher": "*", "hooks": [handler]},
    ]


def test_uninstall_removes_only_ours(project, cli):
    _write(project, EXISTING)
    assert cli("claude", "install", cwd=project.root).returncode == 0
    done = cli("claude", "install", "--uninstall", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("removed hookrunner from .claude/settings.json for ")
    assert json.loads(_settings(project).read_text()) == EXISTING
    again = cli("claude", "install", "--uninstall", cwd=project.root)
    assert again.stdout == "hookrunner is not installed in .claude/settings.json; nothing changed\n"


def test_install_into_a_new_file_and_another_path(project, cli):
    target = project.root / "home" / "settings.json"
    done = cli("claude", "install", "--settings", str(target), cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert "note: no hooks.yaml here yet" in done.stdout
    data = json.loads(target.read_text())
    assert list(data) == ["hooks"] and list(data["hooks"]) == list(EVENTS)
    assert not target.with_name("settings.json.bak").exists()
    cli("claude", "install", "--settings", str(target), "--uninstall", cwd=project.root)
    assert json.loads(target.read_text()) == {}


def test_invalid_settings_are_reported_and_left_alone(project, cli):
    path = _settings(project)
    path.parent.mkdir()
    path.write_text('{\n  "hooks": {\n    "PreToolUse": [,]\n  }\n}\n')
    done = cli("claude", "install", cwd=project.root)
    assert done.returncode == 2
    assert done.stderr == (
        "error: .claude/settings.json:3:20: invalid JSON: Expecting value "
        "(fix it, or move it away)\n"
    )
    assert path.read_text() == '{\n  "hooks": {\n    "PreToolUse": [,]\n  }\n}\n'
    path.write_text('{"hooks": {"Stop": {"matcher": "*"}}}')
    done = cli("claude", "install", cwd=project.root)
    assert done.returncode == 2
    assert done.stderr == "error: hooks.Stop must be a list of matcher groups\n"
