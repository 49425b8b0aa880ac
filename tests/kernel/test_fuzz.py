"""Fuzzing the loader: random YAML and mutated manifests are valid or a clean ValidationError.

"Clean" means: a ``ValidationError`` whose every problem names the file, a line and column,
and prints; never any other exception, never a hang.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import textwrap
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookrunner import HookRunner, ValidationError

_unique = itertools.count()
# Modest by default so the suite stays fast; raise HOOKRUNNER_FUZZ_EXAMPLES for a long hunt.
FUZZ = settings(
    max_examples=int(os.environ.get("HOOKRUNNER_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

HOOKS_SOURCE = textwrap.dedent(
    """
    from hookrunner import Veto

    def notify(session_id, metadata):
        return {"seen": session_id}

    def anything(**kwargs):
        return None

    def wrapper(original_func, action):
        return original_func()

    def node_hook(node, inputs):
        return None

    def handler(error, hook, event):
        pass

    class Hooks:
        def __init__(self, level=1):
            self.level = level

        def before_node_run(self, node):
            pass

        def session_start(self, session_id):
            pass
    """
)

VALID = """\
version: 1
settings:
  on_error: continue
  timeout: 5s
events:
  model_promoted: {args: [model_name, version], style: notify}
  pick: {args: [key], style: firstresult, parallel: false}
hooks:
  - name: greet
    event: session_start
    call: MODULE:notify
    priority: 10
    when: {session_id: "s*"}
  - name: everything
    event: post_tool_execution
    call: MODULE.anything
    with: {extra: 1}
    on_error: disable
    error_handler: MODULE:handler
    timeout: 500ms
  - name: wrap_it
    event: session_metadata
    mode: wrap
    call: MODULE:wrapper
    tryfirst: true
  - name: nodes
    event: before_node_run
    call: MODULE:node_hook
    when: {node: ["clean_*", "x*"], tags: [etl], run_id: {regex: "^r[0-9]+$"}}
    trylast: true
  - name: klass
    class: MODULE:Hooks
    args: {level: 3}
    enabled: false
  - name: promoted
    event: model_promoted
    call: MODULE:anything
"""

KEYS = [
    "version", "settings", "include", "events", "plugins", "hooks", "forget", "name", "event",
    "call", "class", "command", "args", "with", "priority", "tryfirst", "trylast", "when",
    "mode", "on_error", "error_handler", "timeout", "enabled", "allowed_modules", "style",
    "parallel", "regex", "node", "tags", "session_id", "discover", "disable",
]  # fmt: skip
WORDS = [
    "session_start", "before_node_run", "session_metadata", "build_s3_client", "model_promoted",
    "notify", "veto", "wrap", "slot", "firstresult", "continue", "raise", "disable", "10s",
    "-1", "1001", "greet", "MODULE:notify", "MODULE:Hooks", "MODULE:wrapper", "MODULE.nope",
    "nope:nope", "MODULE:node_hook", "${env:HOOKRUNNER_FUZZ_UNSET}", "${env:HOME,x}", "clean_*", "",
    "hooks.yaml", "other.yaml", "echo", "a b c", "\t", "*", "x" * 300, "a\x00b", "../" * 40,
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=25,
)
documents = st.one_of(
    values,
    st.dictionaries(st.sampled_from(KEYS), values, max_size=6),
    st.fixed_dictionaries(
        {"version": st.sampled_from([1, 2, "1", None]), "hooks": st.lists(values, max_size=4)}
    ),
)


def _check(text: str, extra: dict[str, str] | None = None) -> bool:
    """True when valid, False for a clean ValidationError; anything else fails the test."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        module = f"fuzzhooks_{os.getpid()}_{next(_unique)}"
        (base / f"{module}.py").write_text(HOOKS_SOURCE)
        text = text.replace("MODULE", module)
        (base / "hooks.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        for name, body in (extra or {}).items():
            (base / name).write_text(body)
        try:
            runner = HookRunner.from_files(base / "hooks.yaml")
        except ValidationError as exc:
            assert exc.problems, "a ValidationError must list at least one problem"
            for p in exc.problems:
                assert p.file and isinstance(p.line, int) and isinstance(p.column, int)
                assert str(p).startswith(f"{p.file}:{p.line}:{p.column}: ")
            return False
        # Valid: the registry must also be usable.
        for hook in runner.hooks():
            hook.describe()
        runner.close()
        return True


def _dump(doc: object) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def test_valid_manifest_is_valid():
    assert _check(VALID)
    assert not _check(VALID.replace("priority: 10", "priority: 1e9"))


@FUZZ
@given(documents)
def test_random_documents(doc):
    _check(_dump(doc))


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_random_text(text):
    _check(text)


mutation = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "dup_line", "swap_lines", "truncate"]),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.sampled_from(list(":-{}[]\t\"'&*!#|>%@` \n,?") + ["\n  ", "  ", "&a ", "*a", "!!str "]),
)


def _mutate(text: str, ops) -> str:
    for op, i, j, piece in ops:
        lines = text.splitlines(keepends=True)
        if not text:
            return piece
        at = i % len(text)
        if op == "delete":
            text = text[:at] + text[at + 1 + j % 5 :]
        elif op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "replace":
            text = text[:at] + piece + text[at + 1 :]
        elif op == "dup_line":
            k = i % len(lines)
            lines.insert(k, lines[k])
            text = "".join(lines)
        elif op == "swap_lines":
            a, b = i % len(lines), j % len(lines)
            lines[a], lines[b] = lines[b], lines[a]
            text = "".join(lines)
        elif op == "truncate":
            text = text[:at]
    return text


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=4))
def test_text_mutations_of_a_valid_manifest(ops):
    _check(_mutate(VALID, ops))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@FUZZ
@given(st.data())
def test_structural_mutations_of_a_valid_manifest(data):
    doc = yaml.safe_load(VALID)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["set", "delete", "rename"]))
        if action == "set":
            parent[path[-1]] = data.draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(KEYS))] = parent.pop(path[-1])
        if not isinstance(doc, dict) or not doc:
            break
    _check(_dump(doc))


@FUZZ
@given(documents, documents)
def test_random_includes(root, included):
    """Includes, including self-inclusion and cycles, with random content on both sides."""
    if isinstance(root, dict):
        root["include"] = ["other.yaml", "hooks.yaml"]
    _check(_dump(root), {"other.yaml": _dump(included) + "\ninclude: [hooks.yaml]\n"})
