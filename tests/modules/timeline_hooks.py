from hookrunner import Veto


def audit(node):
    pass


def notify(node):
    if node.name == "a":
        raise ConnectionError("webhook down")


def policy(checkpoint_data):
    if checkpoint_data.get("node") == "b":
        raise Veto("b is recomputed")


def guard(tool_name):
    if tool_name == "rm":
        raise Veto("no rm")
