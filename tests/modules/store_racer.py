import sys
import time
from pathlib import Path

from hookrunner.services.sessions.store import Store

folder, me, other = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
for r in range(int(sys.argv[4])):
    (folder / f"ready-{r}-{me}").touch()
    deadline = time.monotonic() + 60
    while not (folder / f"ready-{r}-{other}").exists() and time.monotonic() < deadline:
        pass
    store = Store(folder / f"new-{r}.db")  # both create the same new file at once
    store.begin(f"{me}-{r}", "test", None, {})
    store.close()
