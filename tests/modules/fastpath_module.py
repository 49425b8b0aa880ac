import time

from hookrunner import Veto

BEHAVIOUR = {}
CALLS = []


def _act(i):
    CALLS.append(i)
    b = BEHAVIOUR.get(i, "none")
    if b == "raise":
        raise RuntimeError(f"hook {i} broke")
    if b == "veto":
        raise Veto(f"hook {i} says no")
    if b == "false":
        return False
    if b == "map":
        return {f"k{i}": i}
    if b == "value":
        return f"v{i}"
    if b == "slow":
        time.sleep(0.005)
    return None
