import time

time.sleep(30)  # a hook module that takes longer to import than Claude Code waits


def branch():
    return {"branch": "main"}
