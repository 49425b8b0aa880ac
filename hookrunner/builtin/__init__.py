"""Hooks that ship with hookrunner, ready to name in a manifest (``call: hookrunner.builtin...``).

Each module imports its heavy dependencies lazily, so naming one of them costs nothing until it
runs. ``hookrunner.builtin.aws`` sends session feedback and metadata to SNS and SQS.
"""
