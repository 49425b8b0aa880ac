"""The secret registry and its scrubber: every escaped form, only the secret's own text, the
logging filter, streams that split a secret over two writes, and the short-value rule."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
import uuid
from urllib.parse import quote, quote_plus

import pytest

from hookrunner.kernel import secrets
from hookrunner.kernel.document import interpolate_env, load_text


def _secret() -> str:
    return f"HRUNIT{uuid.uuid4().hex[:8]}\\b'c\"d\ne&f=1%2F+g?h#i/j k-é"


@pytest.fixture
def secret() -> str:
    value = _secret()
    secrets.register(value, "HR_UNIT")
    return value


def _forms(s: str) -> list[str]:
    """How a secret looks once escaped on its way out (computed here independently)."""
    return [
        s,
        repr(s),
        repr("'" + s),  # repr picks the other quote when the text holds one
        repr('"' + s),
        repr(s.encode()),
        json.dumps(s),
        json.dumps(s, ensure_ascii=False),
        json.dumps(repr(s)),
        repr(repr(s)),
        json.dumps(json.dumps(s)),
        quote(s, safe=""),
        quote(s),
        quote_plus(s),
        repr(ValueError(f"invalid literal for int() with base 10: {s!r}")),
        json.dumps({"error": f"ValueError: invalid literal: {s!r}"}),
    ]


def test_every_escaped_form_is_masked_and_the_rest_kept(secret):
    head = secret[:14]
    for form in _forms(secret):
        out = secrets.scrub(f"before {form} after")
        assert head not in out, (form, out)
        assert out.startswith("before ") and out.endswith(" after")
        assert secrets.MASK in out


def test_only_the_environment_part_of_a_partly_interpolated_string_is_masked(secret):
    doc = load_text('hooks: [{call: "shook:${env:HR_UNIT}"}]\n', "m.yaml")
    assert interpolate_env(doc, {"HR_UNIT": secret}) == []
    value = doc.data["hooks"][0]["call"]
    assert secrets.scrub(f"module 'shook' has no attribute {value.partition(':')[2]!r}") == (
        "module 'shook' has no attribute '<from env>'"
    )
    assert doc.redact(("hooks", 0, "call"), value) == "shook:<from env>"


def test_values_shorter_than_the_minimum_are_settings(monkeypatch):
    short = "x" * (secrets.MIN_LENGTH - 1)
    secrets.register(short, "HR_SHORT")
    assert secrets.scrub(f"level {short}") == f"level {short}"
    doc = load_text('command: "run --level=${env:HR_SHORT}"\n', "m.yaml")
    interpolate_env(doc, {"HR_SHORT": short})
    # Shown as written (hookrunner list), any value from the environment is hidden.
    assert doc.redact(("command",), doc.data["command"]) == "run --level=<from env>"


def test_pieces_cut_out_of_a_secret_are_masked_too():
    value = f"tok_{uuid.uuid4().hex[:8]}.hooks:fn"
    secrets.register(value, "HR_TARGET")
    module = value.partition(":")[0]
    assert secrets.scrub(f"module {module!r} not found") == f"module {module!r} not found"
    secrets.derive(value, module, "fn")
    assert secrets.scrub(f"module {module!r} not found") == "module '<from env>' not found"
    # A part cut across the secret's edge holds its head: that piece is masked.
    other = f"pkg_{uuid.uuid4().hex[:8]}"
    secrets.register(other + "/rest", "HR_PREFIX")
    secrets.derive(f"x.{other}/rest", f"x.{other}")
    assert secrets.scrub(f"x.{other}") == f"x.{secrets.MASK}"


def test_a_stream_holds_back_a_secret_split_over_two_writes(secret):
    out = io.StringIO()
    stream = secrets.ScrubbedStream(out)
    cut = len(secret) // 2
    stream.write(f"error: {secret[:cut]}")
    assert secret[:cut] not in out.getvalue()
    stream.write(f"{secret[cut:]} done\n")
    stream.write("plain text\n")
    stream.flush()
    assert out.getvalue() == "error: <from env> done\nplain text\n"


def test_the_logging_filter_scrubs_message_arguments_and_traceback(secret):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    log = secrets.logger(f"hookrunner.test{uuid.uuid4().hex[:6]}")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("hook %r failed: %s", "h", ValueError(secret))
        try:
            int(secret)
        except ValueError:
            log.exception("crashed with %s", secret)
    finally:
        log.removeHandler(handler)
    formatter = logging.Formatter()
    texts = [formatter.format(r) for r in records]
    assert texts[0] == "hook 'h' failed: <from env>"
    assert texts[1].startswith("crashed with <from env>\nTraceback")
    assert "invalid literal for int() with base 10: '<from env>'" in texts[1]
    assert records[1].exc_info is None  # no handler gets the exception holding the value
    for text in texts:
        assert secret[:14] not in text


def test_tracebacks_printed_by_the_interpreter_pass_the_scrubber(tmp_path):
    """The CLI routes stdout and stderr through the scrubber first: an uncaught exception's
    traceback (printed by the interpreter itself) is masked like everything else."""
    value = _secret()
    script = textwrap.dedent(
        f"""
        from hookrunner.kernel import secrets
        secrets.guard_streams()
        secrets.register({value!r}, "HR_UNIT")
        print("out:", {value!r})
        raise RuntimeError({value!r})
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == "out: <from env>\n"
    assert "Traceback" in done.stderr and "RuntimeError: <from env>" in done.stderr
    assert value[:14] not in done.stdout + done.stderr
