import json
import os
import signal


def before(command_args, project_metadata, log):
    with open(log, "a") as fh:
        fh.write(json.dumps(["before", command_args, project_metadata["project_name"]]) + "\n")


def after(command_args, exit_code, log):
    with open(log, "a") as fh:
        fh.write(json.dumps(["after", command_args, exit_code]) + "\n")


def boom():
    raise RuntimeError("boom")


def interrupt():
    os.kill(os.getpid(), signal.SIGINT)


def one():
    return 1
