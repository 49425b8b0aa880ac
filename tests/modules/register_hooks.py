"""The manifest's side of tests/host/test_register.py: each hook records its name in CALLS."""

CALLS = []


def first(session_id):
    CALLS.append("first")


def second(session_id):
    CALLS.append("second")


def third(session_id):
    CALLS.append("third")


def edit(file_path):
    CALLS.append(("edit", file_path))
