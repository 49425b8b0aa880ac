"""Dataset types and the catalog: round trips on real files, parameters, custom classes."""

from __future__ import annotations

import json

import pytest

from hookrunner.pipeline.catalog import Catalog
from hookrunner.pipeline.datasets import (
    DatasetConfigError,
    DatasetError,
    MemoryDataset,
    make_dataset,
)


@pytest.mark.parametrize(
    ("config", "data", "on_disk"),
    [
        (
            {"type": "json", "path": "d/x.json"},
            {"a": [1, 2]},
            '{\n  "a": [\n    1,\n    2\n  ]\n}\n',
        ),
        ({"type": "json", "path": "d/x.json", "indent": None}, [1, "b"], '[1, "b"]\n'),
        ({"type": "yaml", "path": "d/x.yaml"}, {"b": 1, "a": [True]}, "b: 1\na:\n- true\n"),
        ({"type": "text", "path": "d/x.txt"}, "héllo\n", "héllo\n"),
        (
            {"type": "csv", "path": "d/x.csv"},
            [{"id": "1", "name": "ada"}, {"id": "2", "name": "alan"}],
            "id,name\r\n1,ada\r\n2,alan\r\n",
        ),
        (
            {"type": "csv", "path": "d/x.tsv", "delimiter": "\t"},
            [{"id": "1", "name": "ada"}],
            "id\tname\r\n1\tada\r\n",
        ),
    ],
)
def test_file_datasets_round_trip(tmp_path, config, data, on_disk):
    ds = make_dataset(config, tmp_path)
    assert not ds.exists()
    ds.save(data)
    assert ds.exists()
    path = tmp_path / config["path"]  # relative paths resolve against the base folder
    assert path.read_bytes().decode() == on_disk
    assert ds.load() == data


def test_pickle_round_trip_and_memory(tmp_path):
    ds = make_dataset({"type": "pickle", "path": "m.pkl"}, tmp_path)
    ds.save({"model": {1, 2}})
    assert ds.load() == {"model": {1, 2}}
    mem = make_dataset({"type": "memory"}, tmp_path)
    with pytest.raises(DatasetError, match="no data has been saved"):
        mem.load()
    mem.save(3)
    assert mem.load() == 3


def test_custom_dataset_class_gets_options_and_a_resolved_path(project, tmp_path):
    mod = project.module(
        """
        import json

        class Lines:
            def __init__(self, path, upper=False):
                self.path, self.upper = path, upper

            def load(self):
                with open(self.path) as fh:
                    return fh.read().splitlines()

            def save(self, data):
                with open(self.path, "w") as fh:
                    fh.write("\\n".join(s.upper() if self.upper else s for s in data))
        """
    )
    import sys

    sys.path.insert(0, str(project.root))
    ds = make_dataset({"type": f"{mod}:Lines", "path": "out.txt", "upper": True}, tmp_path)
    ds.save(["a", "b"])
    assert (tmp_path / "out.txt").read_text() == "A\nB"
    assert ds.load() == ["A", "B"]
    with pytest.raises(DatasetConfigError) as err:
        make_dataset({"type": f"{mod}:Lines", "path": "x", "uper": True}, tmp_path)
    assert err.value.key == "uper" and "did you mean 'upper'" in err.value.hint


def test_bad_configs_name_the_key(tmp_path):
    for config, key, message in [
        ({"type": "jsn", "path": "x"}, "type", "unknown dataset type 'jsn'"),
        ({"type": "json"}, None, "a json dataset needs a 'path'"),
        ({"type": "memory", "path": "x"}, "path", "memory datasets take no options"),
        ({"type": "csv", "path": "x", "sep": ";"}, "sep", "does not accept these options"),
    ]:
        with pytest.raises(DatasetConfigError) as err:
            make_dataset(config, tmp_path)
        assert err.value.key == key and message in err.value.message


def test_catalog_params_and_undeclared_memory(tmp_path):
    report = make_dataset({"type": "json", "path": "r.json"}, tmp_path)
    catalog = Catalog({"report": report}, {"alpha": 0.5, "model": {"depth": 3}})
    assert catalog.load("params:alpha") == 0.5
    assert catalog.load("params:model.depth") == 3
    params = catalog.load("parameters")
    params["model"]["depth"] = 99  # nodes get a copy
    assert catalog.load("params:model.depth") == 3
    with pytest.raises(DatasetError, match="read-only"):
        catalog.save("params:alpha", 1)
    catalog.save("scratch", [1])  # undeclared → memory
    assert isinstance(catalog.get("scratch"), MemoryDataset) and catalog.load("scratch") == [1]
    assert not catalog.persisted("scratch") and not catalog.persisted("report")
    catalog.save("report", {"ok": True})
    assert catalog.persisted("report") and json.loads((tmp_path / "r.json").read_text())
    with pytest.raises(DatasetError, match="loading dataset 'missing' failed"):
        catalog.load("missing")
    assert "report" in catalog and "params:anything" in catalog and "nope" not in catalog


class _Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message either")


class _Hostile:
    """A user dataset whose repr raises and whose errors are huge or unreadable."""

    def __repr__(self):
        raise RuntimeError("no repr")

    def load(self):
        raise ValueError("x" * 15_000_000)

    def save(self, data):
        raise _Unprintable()


def test_a_hostile_datasets_failure_is_reported_short_and_readable():
    from hookrunner.pipeline.datasets import DatasetError

    catalog = Catalog({"x": _Hostile()})
    with pytest.raises(DatasetError) as loading:
        catalog.load("x")
    message = str(loading.value)
    assert message.startswith("loading dataset 'x' (<_Hostile object>) failed: ValueError: xxx")
    assert len(message) < 1_000 and "15,000,000 characters" in message
    with pytest.raises(DatasetError) as saving:
        catalog.save("x", 1)
    assert str(saving.value) == (
        "saving dataset 'x' (<_Hostile object>) failed: "
        "_Unprintable: <_Unprintable whose message cannot be read>"
    )
