import sys


def greet(session_id, metadata):
    return {"greeted": session_id}


def tag(metadata, label):
    return {"label": label}


def shout(session_id):
    print("SHOUT", session_id, file=sys.stderr)


def guard(tool_name):
    return tool_name != "rm"


def promoted(model_name, version):
    return {"seen": f"{model_name}@{version}"}


def fails():
    raise ValueError("bad hook")
