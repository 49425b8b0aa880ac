"""A module that ends the process when imported (tests/kernel/runtime/test_exits.py)."""

import sys

sys.exit(9)


def hook(session_id):
    pass
