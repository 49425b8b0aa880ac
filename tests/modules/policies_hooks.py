import asyncio
import threading

handled = []
post_errors = []
ran = []
release = threading.Event()
cancelled = []


def handler(error, hook, event):
    handled.append((type(error).__name__, str(error), hook.name, event))


def broken_handler(error, hook, event):
    raise RuntimeError("handler broke too")


def record_post_error(session_id, error_info, error):
    post_errors.append((session_id, error_info, type(error).__name__))


def boom(session_id):
    ran.append(("boom", session_id))
    raise ValueError(f"boom {session_id}")


def after(session_id):
    ran.append(("after", session_id))


def node_boom(node):
    raise KeyError("node hook failed")


def stuck():
    ran.append("stuck")
    release.wait(30)


async def slow_async():
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        cancelled.append("slow_async")
        raise


def quick():
    ran.append("quick")
