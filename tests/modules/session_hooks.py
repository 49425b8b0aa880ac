from hookrunner import Veto

SEEN = []
CACHE = {}


def started(session_id, timestamp, metadata):
    SEEN.append(("start", session_id, metadata.get("user"), timestamp is not None))
    return {"greeted": True}


def ended(session_id, metadata):
    SEEN.append(("end", session_id, dict(metadata)))


def edited(file_path, session_id):
    SEEN.append(("edit", file_path, session_id))


def broken():
    raise RuntimeError("hook bug")


def guard(original_func, action, metadata=None, keys=None):
    if action == "update" and "secret" in (metadata or {}):
        raise Veto("no secrets in metadata")
    if action == "update":
        return original_func({k: str(v).upper() for k, v in metadata.items()})
    if action == "get" and keys == ["cached"]:
        return {"cached": "from cache"}
    return original_func()


def feedback(original_func, feedback):
    SEEN.append(("feedback", feedback["rating"]))
    return original_func()


def no_big(checkpoint_data):
    if checkpoint_data.get("size", 0) > 10:
        raise Veto("too big")


def after_checkpoint(checkpoint_data):
    SEEN.append(("checkpoint", checkpoint_data["step"]))
