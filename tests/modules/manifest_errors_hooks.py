def log_start(node, inputs):
    pass


def typo(nod):
    pass


def needs_level(node, level):
    pass


def plain(action):
    pass


def wrapper(original_func, action):
    return original_func()


NOT_CALLABLE = 5


class Leveled:
    def before_node_run(self, node, level=1):
        pass

    def session_start(self, session_id):
        pass


class Broken:
    def __init__(self, threshold):
        raise RuntimeError("cannot connect")

    def before_node_run(self, node):
        pass
