"""``class:`` may name a ready hooks object (Kedro's ``HOOKS = (hooks_object,)``), as a plugin's
entry point may; a function, a module, or an object given ``args:`` is a located error."""

from __future__ import annotations

import importlib

import pytest

from hookrunner import HookRunner
from hookrunner.kernel.errors import ValidationError

SOURCE = """
calls = []


class Hooks:
    def session_start(self, session_id):
        calls.append(session_id)


ready = Hooks()


def not_hooks(session_id):
    pass
"""


def test_class_naming_a_hooks_object_uses_it_as_it_is(project):
    m = project.module(SOURCE)
    path = project.write("hooks.yaml", f"version: 1\nhooks:\n  - {{name: h, class: '{m}:ready'}}\n")
    with HookRunner.from_files(path) as runner:
        assert runner.emit("session_start", session_id="s1").ok
    assert importlib.import_module(m).calls == ["s1"]


@pytest.mark.parametrize(
    "target, extra, message",
    [
        (":not_hooks", "", "is not a class"),
        (":ready", "    args: {x: 1}\n", "is not a class (an object takes no `args:`)"),
    ],
)
def test_what_is_no_hooks_class_nor_object(project, target, extra, message):
    m = project.module(SOURCE)
    path = project.write(
        "hooks.yaml", f"version: 1\nhooks:\n  - name: h\n    class: '{m}{target}'\n{extra}"
    )
    with pytest.raises(ValidationError) as info:
        HookRunner.from_files(path)
    text = str(info.value.problems[0])
    assert f"{path}:4:12: hooks[0] 'h' → class: " in text
    assert message in text and "name a hooks class, or a hooks object" in text
