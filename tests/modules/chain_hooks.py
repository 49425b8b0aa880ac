SEEN = []


def quieter(tool_input):
    return {"tool_input": {**tool_input, "quiet": True}, "rewrites": 1}


def observe(tool_input):
    SEEN.append(dict(tool_input))
    return True


def watch_false(tool_input):
    return False


def last(tool_input):
    SEEN.append(dict(tool_input))
