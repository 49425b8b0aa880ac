"""Raises a BaseException that is not an Exception when imported."""


class Stop(BaseException):
    pass


raise Stop("stopped at import")
