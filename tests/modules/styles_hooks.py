import asyncio
import threading

from hookrunner import Veto

calls = []


# notify
def add_user(metadata):
    calls.append(("add_user", dict(metadata or {})))
    return {"user": "ada"}


def sees_user(metadata):
    calls.append(("sees_user", dict(metadata or {})))
    return {"seen": metadata.get("user")}


def nothing(session_id):
    calls.append(("nothing", session_id))


def scale_inputs(inputs):
    return {"x": inputs["x"] * 10}


def check_inputs(inputs):
    calls.append(("check_inputs", dict(inputs)))


def bad_inputs(inputs):
    return 42


def rewrite(query):
    return query + " AND lang:py"


def rewrite_again(query):
    return {"query": query.upper()}


# veto
def deny_rm(tool_name):
    calls.append(("deny_rm", tool_name))
    return False if tool_name == "rm" else None


def raise_veto(tool_name):
    if tool_name == "curl":
        raise Veto("no network")


def after_guard(tool_name):
    calls.append(("after_guard", tool_name))


def observe_false(tool_name):
    return False


# firstresult
def first_none(key):
    calls.append(("first_none", key))


def first_value(key):
    return f"value-of-{key}"


def never(key):
    calls.append(("never", key))
    return "too late"


# wrap
def outer(original_func, action):
    calls.append(("outer-in", action))
    result = original_func()
    calls.append(("outer-out", action))
    return result


def cache(original_func, action, session_id):
    if action == "get":
        return {"cached": session_id}
    return original_func()


def transform(original_func, metadata):
    if metadata is None:
        return original_func()
    return original_func({k: str(v).upper() for k, v in metadata.items()})


def validate(original_func, action, metadata):
    if action == "update" and "forbidden" in (metadata or {}):
        raise Veto("forbidden key")
    return original_func()


def crash(original_func, action):
    if action == "delete":
        raise RuntimeError("no deletes today")
    return original_func()


attempts = {"n": 0}


def retry(original_func, action):
    for attempt in range(3):
        try:
            return original_func()
        except ConnectionError:
            calls.append(("retry", attempt))
    raise RuntimeError("gave up")


def rename_kw(original_func, action):
    return original_func(action="renamed")


def extra_positional(original_func, action):
    return original_func({"a": 1}, {"b": 2})


async def async_wrap(original_func, action):
    await asyncio.sleep(0)
    return {"async": original_func()}


# slot
def slot_a(session_kwargs, client_kwargs):
    return ("a", client_kwargs)


def slot_b(session_kwargs, client_kwargs):
    return ("b", client_kwargs)


def slot_fails(session_kwargs, client_kwargs):
    raise RuntimeError("slot broken")


def mine(x):
    return f"mine:{x}"


# parallel: both hooks must be inside at the same time, or the barrier breaks.
barrier = threading.Barrier(2, timeout=10)


def par_one(x):
    barrier.wait()
    return {"one": x}


def par_two(x):
    barrier.wait()
    return {"two": x}


def par_fail(x):
    raise ValueError("parallel failure")


# async
async def a_notify(metadata):
    await asyncio.sleep(0)
    return {"async": True}


async def a_first(key):
    await asyncio.sleep(0)
    return None


async def a_veto(tool_name):
    await asyncio.sleep(0)
    if tool_name == "rm":
        raise Veto("async says no")


gate = {}


async def a_par_one(x):
    gate.setdefault("one", asyncio.Event()).set()
    await asyncio.wait_for(gate.setdefault("two", asyncio.Event()).wait(), 10)
    return {"one": x}


async def a_par_two(x):
    gate.setdefault("two", asyncio.Event()).set()
    await asyncio.wait_for(gate.setdefault("one", asyncio.Event()).wait(), 10)
    return {"two": x}
