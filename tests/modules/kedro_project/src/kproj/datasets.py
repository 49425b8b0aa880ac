"""A JSON file dataset both runners can use (a Kedro ``AbstractDataset`` has load and save)."""

import json
from pathlib import Path

from kedro.io import AbstractDataset


class JsonFile(AbstractDataset):
    def __init__(self, path):
        self._filepath = path

    def load(self):
        return json.loads(Path(self._filepath).read_text())

    def save(self, data):
        Path(self._filepath).parent.mkdir(parents=True, exist_ok=True)
        Path(self._filepath).write_text(json.dumps(data, indent=2, sort_keys=True))

    def _exists(self):
        return Path(self._filepath).exists()

    def _describe(self):
        return {"path": self._filepath}
