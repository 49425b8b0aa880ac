"""The last valid manifest set on disk: what a process started per event falls back to, and
the parsed form that spares it the YAML parse (property-tested against the parser)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hookrunner.host import lastgood
from hookrunner.kernel.document import load_text
from hookrunner.kernel.runtime.hook import State


def _hooks(project, body: str, name: str = "hooks.yaml"):
    mod = project.module("def a(file_path):\n    pass\n\n\ndef b(file_path):\n    pass\n")
    project.write(name, body.replace("M:", f"{mod}:"))
    return project.root / name


def _load(path, record=None):
    record = record or lastgood.record_path([path], path.parent / ".hookrunner")
    return lastgood.load([str(path)], record, State()), record


def _shape(registry):
    return [(h.name, h.event, h.priority, h.source, h.target, h.timeout) for h in registry.hooks]


MANIFEST = """
version: 1
include: [common.yaml]
settings: {timeout: 2s}
hooks:
  - {name: one, event: post_file_edit, call: M:a, priority: 20, when: {file_path: "*.py"}}
  - {name: two, event: post_file_edit, call: M:b, priority: 10}
"""


def test_a_valid_set_is_recorded_and_read_back_without_parsing(project):
    project.write(
        "common.yaml",
        "version: 1\nhooks:\n  - {name: shared, event: post_file_edit, command: [echo, hi]}\n",
    )
    path = _hooks(project, MANIFEST)
    fresh, record = _load(path)
    assert fresh.problems == () and fresh.saved is None
    saved = json.loads(record.read_text())
    assert [f["name"] for f in saved["files"]] == [str(path), str(project.root / "common.yaml")]
    stamp = record.stat().st_mtime_ns
    again, _ = _load(path)
    assert _shape(again.registry) == _shape(fresh.registry)
    assert record.stat().st_mtime_ns == stamp  # nothing changed: nothing written
    # The parsed form is used: a process loading the set never imports YAML.
    code = (
        "import sys; from hookrunner.host import lastgood; "
        "from hookrunner.kernel.runtime.hook import State; from pathlib import Path; "
        f"r = lastgood.load([{str(path)!r}], Path({str(record)!r}), State()); "
        "print(len(r.registry.hooks), 'yaml' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project.root
    )
    assert done.stdout.split() == ["3", "False"], done.stderr


def test_an_edited_include_is_read_again(project):
    common = project.write(
        "common.yaml",
        "version: 1\nhooks:\n  - {name: shared, event: post_file_edit, command: [echo, hi]}\n",
    )
    path = _hooks(project, MANIFEST)
    _load(path)
    common.write_text(
        "version: 1\nhooks:\n  - {name: shared, event: post_file_edit, command: [echo, hi],"
        " priority: 1}\n"
    )
    os.utime(common, ns=(1, 1))  # a different stamp even on a coarse clock
    loaded, record = _load(path)
    assert [h.priority for h in loaded.registry.hooks if h.name == "shared"] == [1]
    texts = {f["name"]: f["text"] for f in json.loads(record.read_text())["files"]}
    assert "priority: 1" in texts[str(common)]


def test_an_invalid_set_falls_back_to_the_last_valid_one(project):
    project.write("common.yaml", "version: 1\nhooks: []\n")
    path = _hooks(project, MANIFEST)
    good, record = _load(path)
    path.write_text(path.read_text().replace("priority: 10", "priority: ten"))
    loaded, _ = _load(path)
    assert _shape(loaded.registry) == _shape(good.registry)
    assert loaded.saved == json.loads(record.read_text())["saved"]
    line = path.read_text().splitlines()[5]
    col = line.index("ten") + 1
    assert [str(p) for p in loaded.problems] == [
        f"{path}:6:{col}: hooks[1] 'two' → priority: expected an integer, got a string"
    ]
    assert "priority: 10" in record.read_text()  # the invalid text is never recorded
    # No record (another set, or none yet): the problems and no registry.
    other, _ = _load(path, project.root / ".hookrunner" / "elsewhere.json")
    assert other.registry is None and other.problems == loaded.problems


def test_a_corrupt_record_is_ignored_and_replaced(project):
    project.write("common.yaml", "version: 1\nhooks: []\n")
    path = _hooks(project, MANIFEST)
    _, record = _load(path)
    record.write_text("{not json")
    loaded, _ = _load(path)
    assert loaded.registry is not None and json.loads(record.read_text())["format"] == 1


def test_yaml_values_json_cannot_hold_are_parsed_each_time(project):
    mod = project.module("def dated(file_path, day):\n    return day\n")
    path = project.write(
        "hooks.yaml",
        "version: 1\nhooks:\n"
        f"  - {{name: dated, event: post_file_edit, call: {mod}:dated, with: {{day: 2024-01-01}}}}\n",
    )
    loaded, record = _load(path)
    assert json.loads(record.read_text())["files"][0]["parsed"] is None  # a date: not JSON
    stamp = record.stat().st_mtime_ns
    again, _ = _load(path)
    assert _shape(again.registry) == _shape(loaded.registry)
    assert record.stat().st_mtime_ns == stamp  # parsed again, but nothing to write
    result = again.registry.plans["post_file_edit"].emit({"file_path": "a.py"})
    assert [r.value for r in result.results] == [datetime.date(2024, 1, 1)]


# --------------------------------------------------------------------------- the property

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2100, 1, 1)),
)
keys = st.one_of(st.text(min_size=1, max_size=6), st.integers(0, 50))
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, min_size=1, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=6), trees, min_size=1, max_size=4))
def test_the_recorded_parsed_form_is_the_parser_s_document(data):
    text = yaml.safe_dump(data, default_flow_style=False, sort_keys=False)
    doc = load_text(text, "t.yaml")
    doc.locate()  # the record keeps every position, found now rather than on first need
    encoded = lastgood._parsed(text, "t.yaml")
    if encoded is None:
        return  # JSON cannot hold it exactly: that file is parsed every time instead
    back = lastgood._document("t.yaml", json.loads(encoded))
    assert back.data == doc.data
    assert type(back.data) is type(doc.data)
    assert back.positions == doc.positions and back.key_positions == doc.key_positions
    assert json.dumps(back.data, sort_keys=True) == json.dumps(doc.data, sort_keys=True)
