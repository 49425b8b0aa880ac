"""A host application emitting session events through hooks.yaml."""

from pathlib import Path

from hookrunner import HookRunner

HERE = Path(__file__).parent
store: dict[str, dict] = {}


def update(action, session_id, metadata=None, **_):
    store.setdefault(session_id, {}).update(metadata or {})


with HookRunner.from_files(HERE / "hooks.yaml") as runner:
    r = runner.emit("session_start", session_id="demo", metadata={"user": "ada"})
    print("session_start changes:", dict(r.changes))
    for tool, arg in [("git", "status"), ("shell", "rm -rf /")]:
        r = runner.emit("pre_tool_execution", session_id="demo", tool_name=tool, tool_input=arg)
        if r.vetoed:
            print(f"{tool}: vetoed ({r.reason})")
            continue
        runner.emit("post_tool_execution", session_id="demo", tool_name=tool, tool_output="ok")
    for prio in ("high", "urgent!"):
        r = runner.wrap(
            "session_metadata",
            update,
            action="update",
            session_id="demo",
            metadata={"priority": prio},
        )
        print(f"metadata priority={prio}:", "refused: " + r.reason if r.vetoed else "stored")
    print("stored metadata:", store["demo"])
