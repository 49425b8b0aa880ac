from hookrunner import Veto


def seen(node):
    pass


def guard(tool_name):
    if tool_name == "rm":
        raise Veto("rm is not allowed")


def broken(file_path, token):
    raise ConnectionError(f"upload of {file_path} with {token} refused")


def note(session_id):
    return {"noted": True}


def begin(run_params):
    pass


def explode(tool_name):
    raise RuntimeError(f"{tool_name} blew up")
