"""Local writes: the umask's mode for a new file, an existing file's own mode kept, temporary
files named for their writer and removed by the next save once that writer is gone."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hookrunner.services import storage


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    def set_to(value: int) -> None:
        os.umask(value)

    old = os.umask(0o022)
    yield set_to
    os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_a_new_output_takes_the_umasks_mode(tmp_path, umask, mask, expected):
    umask(mask)
    target = tmp_path / "out" / "report.json"
    storage.atomic_write_bytes(target, b"{}")
    assert _mode(target) == expected


def test_an_existing_output_keeps_its_mode(tmp_path, umask):
    target = tmp_path / "report.json"
    storage.atomic_write_bytes(target, b"1")
    for mode in (0o644, 0o600, 0o660):
        target.chmod(mode)
        storage.atomic_write_bytes(target, b"2")
        assert _mode(target) == mode and target.read_bytes() == b"2"


def test_init_scaffold_is_not_private(tmp_path, umask, cli):
    result = cli("init", str(tmp_path / "proj"))
    assert result.returncode == 0, result.stderr
    assert _mode(tmp_path / "proj" / "pipeline.yaml") == 0o644


KILLED_MID_SAVE = """
import os, sys
from hookrunner.services import storage

def hang(src, dst):  # the rename never comes: the process is killed while saving
    print(src, flush=True)
    os.kill(os.getpid(), 19)  # SIGSTOP: wait here for the kill

os.replace = hang
storage.atomic_write_bytes(sys.argv[1], b"x" * 1_000_000)
"""


def test_a_save_killed_halfway_leaves_a_temp_file_the_next_save_removes(tmp_path):
    target = tmp_path / "out.bin"
    storage.atomic_write_bytes(target, b"before")
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SAVE, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    temp = Path(child.stdout.readline().strip())
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    child.stdout.close()
    assert temp.exists() and temp.stat().st_size == 1_000_000
    # Recognisable: beside the target, named for it and for the process that wrote it.
    assert temp.parent == tmp_path and temp.name.startswith(".out.bin.hookrunner-")
    assert f"-{child.pid}-" in temp.name
    assert target.read_bytes() == b"before"  # the half-done save changed nothing

    storage.atomic_write_bytes(tmp_path / "other.bin", b"o")  # another file: not its business
    assert temp.exists()
    storage.atomic_write_bytes(target, b"after")
    assert not temp.exists() and target.read_bytes() == b"after"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.bin", "out.bin"]


def test_temp_files_of_live_writers_and_other_hosts_are_left_alone(tmp_path):
    target = tmp_path / "out.bin"
    prefix = f".out.bin.hookrunner-{storage._host_tag()}"
    live = tmp_path / f"{prefix}-1-aaaa.tmp"  # pid 1 is alive
    other_host = tmp_path / ".out.bin.hookrunner-00000000-999999-bbbb.tmp"
    old = tmp_path / ".out.bin.hookrunner-00000000-999999-cccc.tmp"
    unrelated = tmp_path / ".out.bin.swp"
    for path in (live, other_host, old, unrelated):
        path.write_text("x")
    day_ago = time.time() - 2 * 86400
    os.utime(old, (day_ago, day_ago))  # whoever wrote it, a day later it is an orphan
    storage.atomic_write_bytes(target, b"1")
    assert live.exists() and other_host.exists() and unrelated.exists()
    assert not old.exists()


def test_only_regular_files_are_read(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    for name, reason in (("fifo", "not a regular file"), ("dir", "a directory")):
        with pytest.raises(OSError, match=reason):
            storage.read_bytes(str(tmp_path / name))
    with pytest.raises(OSError, match="not a regular file"):
        storage.read_bytes("/dev/zero")
