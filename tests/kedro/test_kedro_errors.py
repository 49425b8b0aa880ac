"""KedroManifestError shows each problem's file as Kedro users read it, and nothing else
of the problem changes (a warning stays a warning)."""

from __future__ import annotations

import os

from hookrunner.kedro.errors import KedroManifestError
from hookrunner.kernel.errors import Problem


def test_problems_keep_every_field_but_the_file_is_shown_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = str(tmp_path / "conf" / "base" / "hooks.yaml")
    outside = str(tmp_path.parent / "elsewhere.yaml")
    warning = Problem(inside, 4, 5, ("hooks", 0), "odd", "a hint", "x", severity="warning")
    error = Problem(outside, 2, 3, ("settings",), "bad")
    shown = KedroManifestError([warning, error]).problems
    assert shown[0] == Problem(
        os.path.join("conf", "base", "hooks.yaml"),
        4,
        5,
        ("hooks", 0),
        "odd",
        "a hint",
        "x",
        severity="warning",
    )
    assert str(shown[0]).startswith("conf/base/hooks.yaml:4:5: warning: ")
    assert shown[1] == error
