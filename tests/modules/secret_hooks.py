"""Hooks and nodes of the secret-leak tests: they fail with an environment value in their
messages, and (with HR_TEST_LOG set) every log record of the run is written to that file as
a handler sees it (message, arguments, traceback)."""

import logging
import os


class _ToFile(logging.Handler):
    def __init__(self, path):
        super().__init__(logging.DEBUG)
        self.path = path
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record):
        text = self.format(record)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"{text}\n{record.msg!r} {record.args!r} {record.exc_info!r}\n")


_LOG = os.environ.get("HR_TEST_LOG")
if _LOG and not any(isinstance(h, _ToFile) for h in logging.getLogger().handlers):
    logging.getLogger().addHandler(_ToFile(_LOG))
    logging.getLogger("hookrunner").setLevel(logging.DEBUG)


def to_int(token):
    """A hook whose error quotes its `with:` value (ValueError: invalid literal...)."""
    return int(token)


def failing_handler(error, hook, event):
    """An error handler that fails too, quoting the error: hookrunner logs its traceback."""
    raise RuntimeError(f"handler could not report {error!r}")


def node_to_int(token):
    """A node whose error quotes a `params:` value."""
    return int(token)


def keep(data):
    return data


class SecretDataset:
    """A dataset type with a secret constructor argument (written into what it saves)."""

    def __init__(self, path, secret_key):
        self.path = path
        self.secret_key = secret_key

    def load(self):
        with open(self.path, encoding="utf-8") as fh:
            return fh.read()

    def save(self, data):
        with open(self.path, "w", encoding="utf-8") as fh:
            fh.write(f"{data}|{self.secret_key}")
