"""The one-pass build of a plain document agrees with the general path (walker, then
PyYAML's constructor): the same data, and the same position for every value and key."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hookrunner.kernel.document import _load_text, interpolate_env

KEYS = st.text(alphabet="abcxyz_-${}:", min_size=1, max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(alphabet="ab c:#-'\"${}env_\n", max_size=12)
    | st.sampled_from(["${env:HOME}", "x ${env:NOPE,dflt} y", "yes", "null", "~", "0x1f", "1e3"])
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, path + (i,))


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(KEYS, DATA, min_size=1, max_size=5),
    flow=st.sampled_from([None, True, False]),
)
def test_the_one_pass_build_agrees_with_the_general_path(data, flow):
    text = yaml.safe_dump(data, default_flow_style=flow, sort_keys=False, allow_unicode=True)
    fast = _load_text(text, "f.yaml")
    general = _load_text(text, "f.yaml", general=True)
    assert fast.data == general.data == yaml.safe_load(text)
    for path in _paths(general.data):
        assert fast.where(path) == general.where(path), path
        if path:
            assert fast.where(path, key=True) == general.where(path, key=True), path
    assert fast.positions == general.positions
    assert fast.key_positions == general.key_positions
    env = {"HOME": "/home/ada"}
    problems = interpolate_env(fast, env)
    assert [str(p) for p in problems] == [str(p) for p in interpolate_env(general, env)]
    assert fast.data == general.data and fast.secret_paths == general.secret_paths


def test_documents_outside_the_plain_subset_take_the_general_path():
    text = "a: &x {k: 1}\nb: *x\nc: !!str 5\nd: {<<: {m: 1}, n: 2}\n1: int key\n"
    doc = _load_text(text, "f.yaml")
    assert doc.data == yaml.safe_load(text) and doc.text is None  # every position known
    general = _load_text(text, "f.yaml", general=True)
    assert doc.positions == general.positions and doc.key_positions == general.key_positions


TRICKY = [
    "",
    "# only a comment\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\na: 2\n",
    "? [x, y]\n: 1\n",
    "a: !!int '5'\n",
    "a: 2001-12-14\nb: 0o17\nc: .inf\nd: ~\ne: ''\nf: |\n  block ${env:HOME}\n",
    "- just\n- a list\n",
    "plain scalar\n",
    "a: {b: [1, {c: d}]}\nnull: 1\n",
    "a: [1, 2\n",
    "a:\n\t- tab\n",
    "a: *nothing\n",
]


def test_tricky_documents_load_as_on_the_general_path():
    from hookrunner import ValidationError

    for text in TRICKY:
        outcomes = []
        for general in (False, True):
            try:
                doc = _load_text(text, "f.yaml", general=general)
                doc.where(("?",), key=True)  # asking about a key fills the whole table
                outcomes.append(("ok", doc.data, doc.positions, doc.key_positions))
            except ValidationError as exc:
                outcomes.append(("invalid", [str(p) for p in exc.problems]))
        assert outcomes[0] == outcomes[1], text
