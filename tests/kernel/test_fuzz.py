"""Fuzzing the loader: random YAML and mutated manifests are valid or a clean ValidationError.

"Clean" means: a ``ValidationError`` whose every problem names the file, a line and column,
and prints; never any other exception, never a hang.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import textwrap
import threading
from collections.abc import Callable
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


def _check(
    text: str,
    extra: dict[str, str] | None = None,
    setup: Callable[[Path], None] | None = None,
    emits: list[tuple[str, dict]] = (),  # type: ignore[assignment]
    probe: Callable[[HookRunner], None] | None = None,
) -> bool:
    """True when valid, False for a clean ValidationError; anything else fails the test.

    ``setup(folder)`` makes more files (FIFOs, links...); a valid registry must then serve
    ``emits`` (event, arguments) without raising (a hook may fail: that is a result), and
    pass ``probe(runner)``."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        module = f"fuzzhooks_{os.getpid()}_{next(_unique)}"
        (base / f"{module}.py").write_text(HOOKS_SOURCE)
        text = text.replace("MODULE", module)
        (base / "hooks.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        for name, body in (extra or {}).items():
            (base / name).write_text(body)
        if setup is not None:
            setup(base)
        try:
            runner = HookRunner.from_files(base / "hooks.yaml")
        except ValidationError as exc:
            assert exc.problems, "a ValidationError must list at least one problem"
            for p in exc.problems:
                assert p.file and isinstance(p.line, int) and isinstance(p.column, int)
                assert str(p).startswith(f"{p.file}:{p.line}:{p.column}: ")
                assert len(p.message) <= 2100, "messages shorten what they quote"
            return False
        # Valid: the registry must also be usable.
        for hook in runner.hooks():
            hook.describe()
        for event, kwargs in emits:
            runner.emit(event, **kwargs)
        if probe is not None:
            probe(runner)
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


# --------------------------------------------------------------------------- hostile values

CORE_TAGS = ["int", "float", "bool", "str", "null", "timestamp", "binary", "set", "omap", "map"]
tag_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "x", "0b102", "0o9", "0x", "1e", "1_0", "2024-13-45", "2024-02-30",
                     "2024-01-01 25:00", "9" * 5000, ".nan", "-.inf", "@@", "[1]", "{a: 1}"]),
)  # fmt: skip
FIELDS = ["priority", "timeout", "name", "event", "enabled", "tryfirst", "call", "with"]


@FUZZ
@given(st.sampled_from(CORE_TAGS), tag_values, st.sampled_from(FIELDS), st.booleans())
def test_core_tags_with_random_values(tag, value, field, quoted):
    """``!!int x``, ``!!timestamp 2024-13-45``...: valid, or a located problem."""
    shown = json.dumps(value) if quoted else value
    text = VALID.replace("    priority: 10\n", f"    {field}: !!{tag} {shown}\n")
    _check(text)
    _check(f"version: 1\nsettings: {{timeout: !!{tag} {shown}}}\n")


REGEX_PIECES = list("ab.*+?|()[]{}^$\\-,0123456789") + ["(a+)+", "(a|a)*", "\\1", "(?=", "(?i)",
                "{1000}", "{99999999999}", "[^", "\\d", "\\p{L}", "(?P<n>", "\\Z", "\\"]  # fmt: skip


@FUZZ
@given(
    st.lists(st.sampled_from(REGEX_PIECES), min_size=1, max_size=12).map("".join),
    st.lists(st.text(alphabet="ab!é", max_size=60), min_size=1, max_size=3),
)
def test_random_regex_matchers(pattern, subjects):
    """Any pattern is valid or a located problem; a valid one matches anything promptly."""
    text = (
        "version: 1\nhooks:\n  - name: greet\n    event: session_start\n"
        f"    call: MODULE:notify\n    when: {{session_id: {{regex: {json.dumps(pattern)}}}}}\n"
    )
    emits = [("session_start", {"session_id": s, "metadata": {}}) for s in subjects]
    done: list[bool] = []
    # A backtracking engine would stall on (a+)+ and friends: fail instead of hanging.
    worker = threading.Thread(target=lambda: done.append(_check(text, emits=emits)), daemon=True)
    worker.start()
    worker.join(60)
    assert done, f"matching {pattern!r} did not finish"


ODD_TARGETS = ["missing.yaml", "fifo.yaml", "dir.yaml", "loop.yaml", "/dev/zero", "/dev/null",
               "ok.yaml", "hooks.yaml", "ok.yaml/x.yaml", "chain0.yaml", "x" * 300, "a\x00b",
               "bad_tag.yaml", "../" * 40 + "etc/hostname"]  # fmt: skip


def _odd_files(base: Path) -> None:
    os.mkfifo(base / "fifo.yaml")
    (base / "dir.yaml").mkdir()
    os.symlink(base / "loop.yaml", base / "loop.yaml")
    (base / "ok.yaml").write_text("version: 1\n")
    (base / "bad_tag.yaml").write_text("version: 1\nsettings: {timeout: !!float 1e}\n")
    for i in range(66):  # deeper than includes may nest (64)
        nxt = f"include: [chain{i + 1}.yaml]\n" if i < 65 else ""
        (base / f"chain{i}.yaml").write_text(f"version: 1\n{nxt}")


# Each example makes a folder of odd files and may load a 64-file chain: fewer of them.
@settings(FUZZ, max_examples=max(FUZZ.max_examples // 3, 1))
@given(st.lists(st.sampled_from(ODD_TARGETS), min_size=1, max_size=4), documents)
def test_random_includes_of_files_that_are_not_files(targets, doc):
    """FIFOs, devices, folders, symlink loops, deep chains, bad tags: never a hang or a crash."""
    root = doc if isinstance(doc, dict) else {"version": 1}
    root["include"] = targets
    _check(_dump(root), setup=_odd_files)


durations = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10, 10**7),
    st.builds(
        lambda n, unit: f"{n}{unit}",
        st.one_of(
            st.integers(0, 10**7), st.floats(0, 10**6, allow_nan=False).map(lambda f: round(f, 3))
        ),
        st.sampled_from(["", "ms", "s", "m", "h", "d", " s", "H"]),
    ),
    st.sampled_from(
        [".nan", ".inf", "-.inf", "1e400", "0x10", "true", "null", "[1]", "24h", "25h"]
    ),
)


@FUZZ
@given(durations, durations)
def test_random_timeouts(default, own):
    """A timeout is a duration of at most a day, or a located problem; a valid one works."""

    def shown(v: object) -> str:
        return (
            json.dumps(v)
            if isinstance(v, str)
            else str(v).replace("nan", ".nan").replace("inf", ".inf")
        )

    text = (
        f"version: 1\nsettings: {{timeout: {shown(default)}}}\nhooks:\n"
        f"  - {{name: a, event: session_start, call: MODULE:notify, timeout: {shown(own)}}}\n"
    )

    def usable(runner: HookRunner) -> None:
        [hook] = runner.hooks("session_start")
        assert hook.timeout is not None and 0 < hook.timeout <= 86400, hook.timeout
        assert runner.emit("session_start", session_id="s").results[0].value == {"seen": "s"}

    _check(text, probe=usable)
