import sys

from hookrunner import HookRunner
from hookrunner.services.sessions.session import Session
from hookrunner.services.sessions.store import Store

runner = HookRunner.from_files(sys.argv[1])
store = Store(sys.argv[2])
with Session(runner, store, session_id=sys.argv[3], flush_interval=0) as s:
    for i in range(150):
        s.checkpoint({"step": i})
        s.update_metadata({f"k{i % 5}": i})
