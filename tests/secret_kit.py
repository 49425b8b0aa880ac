"""The marker secret of the leak tests, and what they grep for it.

The value holds a backslash, both quotes, a newline and URL-special characters, so each of
its escapings (repr, JSON, URL encoding) differs from the raw text; its head and tail are
letters and digits, which every escaping keeps: finding neither means no form got out.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Marker:
    value: str
    head: str
    tail: str
    log: Path | None = None  # where the run's log records are written (HR_TEST_LOG)

    @classmethod
    def new(cls) -> Marker:
        tag = uuid.uuid4().hex[:10]
        head, tail = f"HRSECRET{tag}", f"{tag[::-1]}ENDMARK"
        return cls(head + "\\7f'3a\"9c\n&x=1%2F+y?z#w/v u-" + tail, head, tail)

    def assert_absent(self, text: str) -> None:
        for part, what in ((self.head, "head"), (self.tail, "tail")):
            if part in text:
                i = text.index(part)
                raise AssertionError(
                    f"the secret's {what} leaked:\n{text[max(0, i - 300) : i + 300]}"
                )


def dump_stores(root: Path) -> list[str]:
    """Every row of every table of every SQLite store under ``root``, and their raw bytes."""
    parts: list[str] = []
    for db in sorted(Path(root).rglob("*.db")):
        conn = sqlite3.connect(db)
        try:
            tables = [
                t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                parts += [repr(row) for row in conn.execute(f"SELECT * FROM {table}")]
        finally:
            conn.close()
        for raw in (db, db.with_name(db.name + "-wal")):
            if raw.exists():
                parts.append(raw.read_bytes().decode("utf-8", "replace"))
    return parts
