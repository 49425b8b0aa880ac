"""Hooks that try to end the process or the emit instead of failing (tests/kernel/runtime/test_exits.py)."""

import sys
import threading

ran = []
release = threading.Event()


class Fatal(BaseException):
    """Neither an Exception nor one of Python's own: a library's 'you cannot catch me'."""


def exits(session_id):
    ran.append("exits")
    sys.exit(3)


def base(session_id):
    ran.append("base")
    raise Fatal("fatal")


def generator_exit(session_id):
    ran.append("generator_exit")
    raise GeneratorExit


def interrupts(session_id):
    ran.append("interrupts")
    raise KeyboardInterrupt


def after(session_id):
    ran.append("after")


def returns(session_id):
    ran.append("returns")
    return {"k": 1}


async def async_exits(session_id):
    ran.append("async_exits")
    sys.exit(4)


def wrapper_exits(original_func):
    ran.append("wrapper_exits")
    sys.exit(5)


def slot_exits(session_kwargs, client_kwargs):
    ran.append("slot_exits")
    sys.exit(6)


def handler_exits(error, hook, event):
    ran.append(("handler", type(error).__name__))
    sys.exit(7)


def blocks(session_id):
    ran.append("blocks")
    release.wait(30)


class ExitsOnConstruction:
    def __init__(self):
        sys.exit(8)

    def session_start(self, session_id):
        pass


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def unprintable(session_id):
    raise Unprintable


def huge_message(session_id):
    raise ValueError("m" * 15_000_000)
