"""Sealing: strings holding a secret travel as ``${env:NAME}`` text, in the form they had,
and are rebuilt from the receiving process's environment."""

from __future__ import annotations

import pickle
import uuid

import pytest

from hookrunner.kernel import secrets
from hookrunner.pipeline.datasets import JSONDataset
from hookrunner.pipeline.sealed import EnvUnset, Sealed, seal, unseal


def _value() -> str:
    return f"HRSEAL{uuid.uuid4().hex[:8]}\\a'b\"c\nd&e=1%2F+f?g#h"


def test_the_receiver_reads_each_value_from_its_own_environment(monkeypatch):
    here, there = _value(), _value()
    secrets.register(here, "HR_SEAL")
    obj = {
        "path": f"/data/{here}/in.json",
        "quoted": [f"invalid literal: {here!r}"],
        "dataset": JSONDataset(f"s3://bucket/{here}/x.json"),
        here: "a key too",
    }
    sealed = seal(obj)
    assert isinstance(sealed, Sealed) and repr(sealed).startswith("<sealed: ")
    wire = pickle.dumps(sealed)
    assert here[:14].encode() not in wire and here[:14] not in repr(sealed)
    monkeypatch.setenv("HR_SEAL", there)
    back = unseal(pickle.loads(wire))
    assert back["path"] == f"/data/{there}/in.json"
    assert back["quoted"] == [f"invalid literal: {there!r}"]  # the repr form, rebuilt
    assert back["dataset"].path == f"s3://bucket/{there}/x.json"
    assert back[there] == "a key too"
    assert secrets.scrub(there) == secrets.MASK  # the receiver masks what it read


def test_a_variable_the_receiver_lacks_raises_or_reads_masked(monkeypatch):
    value = _value()
    secrets.register(value, "HR_SEAL_GONE")
    sealed = seal(f"token={value}")
    monkeypatch.delenv("HR_SEAL_GONE", raising=False)
    with pytest.raises(EnvUnset, match="'HR_SEAL_GONE' is not set"):
        unseal(sealed)
    assert unseal(sealed, missing="mask") == "token=<from env>"


def test_a_piece_of_a_value_travels_masked(monkeypatch):
    value = f"pkg_{uuid.uuid4().hex[:8]}.hooks:fn"
    secrets.register(value, "HR_SEAL_TARGET")
    module = value.partition(":")[0]
    secrets.derive(value, module)
    monkeypatch.setenv("HR_SEAL_TARGET", value)
    assert unseal(seal(f"module {module!r} not found")) == "module '<from env>' not found"
    assert unseal(seal(value)) == value
