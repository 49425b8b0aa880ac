"""A JSON file dataset (Kedro's core has no file datasets without kedro-datasets)."""

import json
from pathlib import Path

from kedro.io import AbstractDataset


class JSONFile(AbstractDataset):
    def __init__(self, path):
        self._path = Path(path)

    def load(self):
        return json.loads(self._path.read_text())

    def save(self, data):
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def _exists(self):
        return self._path.exists()

    def _describe(self):
        return {"path": str(self._path)}
