"""Local writes: the umask's mode for a new file, an existing file's own mode kept, temporary
files named for their writer (its machine: host, boot and PID namespace, and its pid) and
removed by a process's first save of that file once that writer is gone; saves of one file
from many threads at once."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hookrunner.services import storage
from hookrunner.services.sessions import owner


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


SAVE = """
import sys
from hookrunner.services import storage

storage.atomic_write_bytes(sys.argv[1], sys.argv[2].encode())
"""


def _save_in_another_process(target: Path, text: str) -> None:
    done = subprocess.run([sys.executable, "-c", SAVE, str(target), text], timeout=60)
    assert done.returncode == 0


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_save_killed_halfway_leaves_a_temp_file_the_next_save_removes(tmp_path):
    target = tmp_path / "out.bin"
    _save_in_another_process(target, "before")
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
    storage.atomic_write_bytes(target, b"after")  # this process's first save of it
    assert not temp.exists() and target.read_bytes() == b"after"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.bin", "out.bin"]


def test_a_process_looks_for_orphans_of_a_file_once(tmp_path):
    """The folder is listed on a process's first save of a file, not on every save (a node
    writing many files into one folder would list it once per save): an orphan left after
    that first save goes with the next process's first save of the file."""
    target = tmp_path / "out.bin"
    tag = storage._tag(owner.current().host)
    first = tmp_path / f".out.bin.hookrunner-{tag}-{_dead_pid()}-aaaa.tmp"
    first.write_text("x")
    storage.atomic_write_bytes(target, b"1")
    assert not first.exists()
    later = tmp_path / f".out.bin.hookrunner-{tag}-{_dead_pid()}-bbbb.tmp"
    later.write_text("x")
    storage.atomic_write_bytes(target, b"2")
    assert later.exists() and target.read_bytes() == b"2"
    _save_in_another_process(target, "3")
    assert not later.exists() and target.read_bytes() == b"3"


def test_a_temp_file_of_another_machine_with_the_same_host_name_is_left_alone(tmp_path):
    """Containers often share a host name and a bind-mounted folder: a pid written by one
    means nothing in the next, so its temp files are not taken for orphans (until a day old)."""
    target = tmp_path / "out.bin"
    me = owner.current()
    assert me.host.split("/")[0] == socket.gethostname()
    dead = _dead_pid()
    others = [socket.gethostname()]  # written by a hookrunner that kept the host name only
    if me.host != socket.gethostname():  # Linux: another PID namespace, another boot
        name, boot, ns = me.host.split("/")
        others += [f"{name}/{boot}/1", f"{name}/00000000-0000-0000-0000-000000000000/{ns}"]
    kept = [
        tmp_path / f".out.bin.hookrunner-{storage._tag(m)}-{dead}-{i}.tmp"
        for i, m in enumerate(others)
    ]
    orphan = tmp_path / f".out.bin.hookrunner-{storage._tag(me.host)}-{dead}-mine.tmp"
    for path in (*kept, orphan):
        path.write_text("x")
    storage.atomic_write_bytes(target, b"1")
    assert all(path.exists() for path in kept)
    assert not orphan.exists()


def test_saves_of_one_file_from_many_threads_at_once_all_succeed(tmp_path):
    """No save removes another's temp file (it is registered as in progress before it
    exists, and a look for orphans checks and removes under one lock); each file ends as one
    of the saves wrote it, whole."""
    targets = [tmp_path / f"out{i}.bin" for i in range(40)]
    threads, rounds = 4, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def content(n: int, r: int) -> bytes:
        return f"{n}:{r}:".encode() * (1000 + n)

    def save(n: int) -> None:
        start.wait()
        for r in range(rounds):
            for target in targets:  # every target's first save looks for orphans
                try:
                    storage.atomic_write_bytes(target, content(n, r))
                except Exception as exc:  # counted, not swallowed: asserted below
                    errors.append(exc)

    workers = [threading.Thread(target=save, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert errors == []
    written = {content(n, r) for n in range(threads) for r in range(rounds)}
    assert all(t.read_bytes() in written for t in targets)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(t.name for t in targets)


def test_temp_files_of_live_writers_and_other_hosts_are_left_alone(tmp_path):
    target = tmp_path / "out.bin"
    prefix = f".out.bin.hookrunner-{storage._tag(owner.current().host)}"
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
