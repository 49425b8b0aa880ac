"""hookrunner inside ``kedro run``: a real Kedro project, made here, run by Kedro's own CLI in
a subprocess, with hookrunner found by Kedro's auto-discovery (the ``kedro.hooks`` entry
point the test extra installs with the package).

One project serves the module (``kedro run`` subprocesses are slow); each test writes its
manifests into ``conf/<env>/hooks.yaml`` and reads what the hooks wrote
($KEDRO_HOOKS_LOG: tests/modules/kedro_manifest_hooks.py, which is also the project's
``settings.py`` hooks class) and what the session store holds (``hookrunner sessions``).
Nothing reaches the network: Kedro's telemetry is off (DO_NOT_TRACK, KEDRO_DISABLE_TELEMETRY).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("kedro")

MODULES = Path(__file__).resolve().parents[1] / "modules"
# The tree under test comes first: Kedro's entry point imports hookrunner from wherever the
# installed package points otherwise.
TREE = str(Path(__file__).resolve().parents[2])
TOKEN = "kr-secret-7b1f2e9d"

FILES = {
    "pyproject.toml": """
        [tool.kedro]
        package_name = "kr_proj"
        project_name = "kr_proj"
        kedro_init_version = "1.7.0"
        source_dir = "src"
    """,
    "src/kr_proj/__init__.py": "",
    "src/kr_proj/settings.py": """
        from kedro_manifest_hooks import SettingsHooks

        HOOKS = (SettingsHooks(),)
        DISABLE_HOOKS_FOR_PLUGINS = ("kedro-telemetry", "kedro-boot")
    """,
    "src/kr_proj/nodes.py": """
        def prepare(values, factor):
            return [v * factor for v in values]


        def double(scaled, fail):
            if fail:
                raise ValueError("double failed on purpose")
            return [v * 2 for v in scaled]


        def total(doubled):
            return sum(doubled)
    """,
    "src/kr_proj/pipeline_registry.py": """
        from kedro.pipeline import Pipeline, node

        from kr_proj import nodes


        def register_pipelines():
            return {
                "__default__": Pipeline(
                    [
                        node(nodes.prepare, ["params:values", "params:factor"], "scaled",
                             name="prepare", tags=["etl"]),
                        node(nodes.double, ["scaled", "params:fail"], "doubled",
                             name="double", tags=["etl", "math"]),
                        node(nodes.total, "doubled", "total", name="total", tags=["report"]),
                    ]
                )
            }
    """,
    "conf/base/parameters.yml": "values: [1, 2, 3]\nfactor: 2\nfail: false\n",
    "conf/base/catalog.yml": "total:\n  type: MemoryDataset\n",
    "conf/local/credentials.yml": "{}\n",
    "conf/prod/parameters.yml": "factor: 2\n",
}

MARK = "kedro_manifest_hooks:mark"
BASE = f"""
version: 1
hooks:
  - {{name: last, event: before_node_run, call: "{MARK}", with: {{label: last}}, trylast: true, priority: 1}}
  - {{name: late, event: before_node_run, call: "{MARK}", with: {{label: late}}}}
  - {{name: early, event: before_node_run, call: "{MARK}", with: {{label: early}}, priority: 10}}
  - {{name: first, event: before_node_run, call: "{MARK}", with: {{label: first}}, tryfirst: true, priority: 900}}
"""
FULL = (
    BASE
    + f"""
  - {{name: etl_only, event: after_node_run, call: "kedro_manifest_hooks:outputs", with: {{label: etl}}, when: {{tags: etl}}}}
  - {{name: total_only, event: after_node_run, call: "kedro_manifest_hooks:outputs", with: {{label: total}}, when: {{node: total}}}}
  - {{name: params_loaded, event: after_dataset_loaded, call: "kedro_manifest_hooks:seen", with: {{label: loaded}}, when: {{dataset: {{regex: "^params:f"}}}}}}
  - {{name: override, event: before_node_run, call: "kedro_manifest_hooks:override", when: {{node: prepare}}, priority: 20}}
  - name: flaky
    event: before_node_run
    call: kedro_manifest_hooks:flaky
    with: {{token: "${{env:KR_TOKEN}}"}}
    when: {{node: double}}
    on_error: continue
    error_handler: kedro_manifest_hooks:handler
  - {{name: breaker, event: before_node_run, call: "kedro_manifest_hooks:breaker", on_error: disable}}
  - {{name: slow, event: after_node_run, call: "kedro_manifest_hooks:slow", timeout: 200ms, on_error: continue, when: {{node: prepare}}}}
  - {{name: counter, class: "kedro_manifest_hooks:Counter", args: {{label: counter}}}}
  - {{name: context, event: after_context_created, call: "kedro_manifest_hooks:context", with: {{label: context}}, priority: 10}}
  - {{name: dormant, event: before_pipeline_run, call: "kedro_manifest_hooks:pipeline", with: {{label: dormant}}, enabled: false}}
  - {{name: started, event: session_start, call: "kedro_manifest_hooks:session", with: {{label: session_start}}}}
  - {{name: ended, event: session_end, call: "kedro_manifest_hooks:session", with: {{label: session_end}}}}
  - name: notify
    event: after_pipeline_run
    command: ["{sys.executable}", "-c", "import os, sys; open(os.environ['KR_NOTIFY'], 'w').write(sys.stdin.read())"]
"""
)


class KedroProject:
    def __init__(self, root: Path):
        self.root = root
        self.log = root / "hooks.jsonl"

    def manifests(self, **envs: str) -> None:
        """Write ``conf/<env>/hooks.yaml`` for each env given; remove every other one."""
        for old in self.root.glob("conf/*/hooks.yaml"):
            old.unlink()
        for env, text in envs.items():
            path = self.root / "conf" / env / "hooks.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))

    def kedro(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """``kedro run ARGS`` with a fresh log, store and kedro-viz output."""
        self.log.unlink(missing_ok=True)
        shutil.rmtree(self.root / ".hookrunner", ignore_errors=True)
        shutil.rmtree(self.root / ".viz", ignore_errors=True)
        environ = {
            k: v for k, v in os.environ.items() if not k.startswith(("HOOKRUNNER_", "KEDRO_ENV"))
        }
        environ.update(
            PYTHONPATH=os.pathsep.join([TREE, str(self.root / "src"), str(MODULES)]),
            KEDRO_HOOKS_LOG=str(self.log),
            KR_TOKEN=TOKEN,
            KR_NOTIFY=str(self.root / "notify.json"),
            DO_NOT_TRACK="1",
            KEDRO_DISABLE_TELEMETRY="true",
            COLUMNS="200",
        )
        environ.update(env)
        return subprocess.run(
            [sys.executable, "-m", "kedro", "run", *args],
            cwd=self.root,
            env=environ,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def records(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def hookrunner(self, *args: str) -> subprocess.CompletedProcess[str]:
        environ = dict(
            os.environ, PYTHONPATH=os.pathsep.join([TREE, str(self.root / "src"), str(MODULES)])
        )
        return subprocess.run(
            [sys.executable, "-m", "hookrunner", *args],
            cwd=self.root,
            env=environ,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def sessions(self) -> list[dict]:
        r = self.hookrunner("sessions", "list", "--format", "json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def session(self, session_id: str) -> dict:
        r = self.hookrunner("sessions", "show", session_id, "--calls", "--format", "json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> KedroProject:
    root = tmp_path_factory.mktemp("kedro") / "kr_proj"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return KedroProject(root)


def _labels(records: list[dict], node: str, labels: set[str]) -> list[str]:
    return [r["label"] for r in records if r.get("node") == node and r["label"] in labels]


ORDER = {"first", "early", "settings", "late", "last"}


def test_manifest_hooks_run_around_settings_hooks_with_our_semantics(project):
    project.manifests(base=FULL)
    r = project.kedro()
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    records = project.records()

    # One order: tryfirst and priority < 500 before settings.py's hooks, the rest after.
    for node in ("prepare", "double", "total"):
        assert _labels(records, node, ORDER) == ["first", "early", "settings", "late", "last"]
    # when: tags, node name and dataset name.
    assert [r["node"] for r in records if r["label"] == "etl"] == ["prepare", "double"]
    assert [r["node"] for r in records if r["label"] == "total"] == ["total"]
    assert sorted({r["dataset"] for r in records if r["label"] == "loaded"}) == [
        "params:factor",
        "params:fail",
    ]
    # A before_node_run mapping replaces the node's input, as a Kedro hook's does:
    # factor 10 instead of 2, so total = (1 + 2 + 3) * 10 * 2.
    assert [r["outputs"] for r in records if r["label"] == "total"] == [{"total": 120}]
    # on_error: continue: the run went on; the error handler saw it; the warning names it.
    assert [r["hook"] for r in records if r["label"] == "handler"] == ["flaky"]
    assert "hook 'flaky' failed in before_node_run" in out
    # on_error: disable: one call, then switched off.
    assert [r["node"] for r in records if r["label"] == "breaker"] == ["prepare"]
    # A timeout abandons the hook (the node does not wait 3 s for it).
    assert "timed out" in out or "HookTimeout" in out
    # after_context_created (run by the entry point's own wrapper) before settings.py's.
    first_two = [r["label"] for r in records][:2]
    assert first_two == ["context", "settings.after_context_created"]
    # A hooks class with constructor arguments; enabled: false; session events.
    assert [r["calls"] for r in records if r["label"] == "counter"] == [1, 2, 3]
    assert not [r for r in records if r["label"] == "dormant"]
    started = [r for r in records if r["label"] == "session_start"]
    ended = [r for r in records if r["label"] == "session_end"]
    assert len(started) == len(ended) == 1
    # A command hook got the event's arguments as JSON on stdin.
    notified = json.loads((project.root / "notify.json").read_text())
    assert notified["run_params"]["run_id"] == started[0]["session_id"]
    # kedro-viz's hooks (a plugin Kedro registered itself) ran around ours, unaffected.
    viz = json.loads((project.root / ".viz" / "kedro_pipeline_events.json").read_text())
    assert [e["event"] for e in viz][0] == "before_pipeline_run"
    assert [e["node"] for e in viz if e["event"] == "after_node_run"] == [
        "prepare",
        "double",
        "total",
    ]
    # ${env:} values never leave the process: not in Kedro's output, not in the store.
    assert TOKEN not in out
    assert "upstream refused token <from env>" in out

    # The session store: the run, every hook call, the nodes, under Kedro's session id.
    (listed,) = project.sessions()
    assert listed["id"] == started[0]["session_id"] and listed["kind"] == "kedro"
    assert listed["status"] == "ok" and listed["summary"]["nodes_run"] == 3
    shown = project.session(listed["id"])
    calls = shown["calls"]
    by_hook = {}
    for c in calls:
        by_hook.setdefault(c["hook"], []).append(c)
    assert len(by_hook["first"]) == 3 and all(c["ok"] for c in by_hook["first"])
    assert [c["ok"] for c in by_hook["flaky"]] == [False]
    assert by_hook["flaky"][0]["error"] == "RuntimeError: upstream refused token <from env>"
    assert [c["ok"] for c in by_hook["breaker"]] == [False]
    assert by_hook["slow"][0]["error"].startswith("HookTimeout")
    assert {c["event"] for c in by_hook["started"]} == {"session_start"}
    assert [c["event"] for c in calls][0] == "after_context_created"  # kept for the session
    assert by_hook["notify"][0]["ok"]
    assert TOKEN not in json.dumps(shown)
    assert [n["node"] for n in shown["nodes"]] == ["prepare", "double", "total"]
    assert [c["node"] for c in shown["checkpoints"]] == ["prepare", "double", "total"]
    assert shown["metadata"]["runner"] == "SequentialRunner"
    assert shown["metadata"]["status"] == "ok"


def test_a_failing_run_is_recorded_failed_and_its_traceback_scrubbed(project):
    project.manifests(
        base=BASE
        + """
  - {name: leak, event: on_node_error, call: "kedro_manifest_hooks:leak", with: {token: "${env:KR_TOKEN}"}}
"""
    )
    r = project.kedro("--params", "fail=true")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out[-3000:]
    # The hook's failure (on_error: raise, the default for Kedro's events) failed the run,
    # and Kedro printed it: without the value from the environment.
    assert "alerting failed with token <from env>" in out
    assert TOKEN not in out
    (listed,) = project.sessions()
    assert listed["status"] == "failed"
    assert listed["summary"]["nodes_failed"] == ["double"]
    assert listed["summary"]["error"] == "RuntimeError: alerting failed with token <from env>"
    shown = project.session(listed["id"])
    assert [n["error"] for n in shown["nodes"] if n["node"] == "double"] == [
        "ValueError: double failed on purpose"
    ]


def test_invalid_manifest_stops_the_run_before_any_node(project):
    bad = """
        version: 1
        hooks:
          - {name: late, event: before_node_run, call: "kedro_manifest_hooks:mark", priority: high,
             with: {label: late}}
          - {name: typo, event: before_nod_run, call: "kedro_manifest_hooks:mark"}
        """
    project.manifests(base=BASE, local=bad)
    r = project.kedro()
    assert r.returncode == 2, (r.stdout + r.stderr)[-3000:]
    assert "Traceback" not in r.stdout + r.stderr
    err = r.stderr
    lines = textwrap.dedent(bad).lstrip("\n").splitlines()
    high = lines[2].index("high") + 1
    typo = lines[4].index("before_nod_run") + 1
    assert "Error: hookrunner: invalid hooks manifest (2 problems)" in err
    assert (
        f"conf/local/hooks.yaml:3:{high}: hooks[0] 'late' → priority: expected an integer" in err
    ), err[-2000:]
    assert (
        f"conf/local/hooks.yaml:5:{typo}: hooks[1] 'typo' → event: unknown event "
        "'before_nod_run' (did you mean 'before_node_run'?)" in err
    )
    labels = [x["label"] for x in project.records()]
    assert "settings.after_context_created" in labels  # the session was made...
    assert "settings" not in labels  # ...but no node ran
    assert "Running node" not in r.stdout + r.stderr
    assert not (project.root / ".hookrunner").exists()


@pytest.mark.parametrize(
    ("store", "said"),
    [
        ("conf", "cannot open session store"),  # a folder
        ("pyproject.toml", "cannot open session store"),  # a file that is no store
        ("pyproject.toml/sessions.db", "cannot create session store"),  # under a file
    ],
)
def test_a_store_the_run_cannot_record_into_stops_it_before_any_node(project, store, said):
    text = BASE + f"settings:\n  kedro:\n    store: {store}\n"
    project.manifests(base=text)
    before = (project.root / "pyproject.toml").read_bytes()
    r = project.kedro()
    out = r.stdout + r.stderr
    assert r.returncode == 2, out[-3000:]
    assert "Traceback" not in out
    line = text.lstrip("\n").splitlines().index(f"    store: {store}") + 1
    assert f"conf/base/hooks.yaml:{line}:12: settings.kedro.store: {said}" in r.stderr, out[-3000:]
    assert (
        "(a file path relative to the project's folder, e.g. .hookrunner/sessions.db)" in r.stderr
    )
    assert "settings" not in [x["label"] for x in project.records()]  # no node ran
    assert (project.root / "pyproject.toml").read_bytes() == before


def test_env_override_by_name_and_the_switch_from_the_environment(project):
    project.manifests(
        base=BASE
        + f"""
  - {{name: dormant, event: before_node_run, call: "{MARK}", with: {{label: dormant}}, enabled: false}}
""",
        prod=f"""
        version: 1
        forget: [last]
        hooks:
          - {{name: early, event: before_node_run, call: "{MARK}", with: {{label: early_prod}}, priority: 600}}
        """,
    )
    r = project.kedro("--env", "prod", HOOKRUNNER_DISABLE="first", HOOKRUNNER_ENABLE="dorm*")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    records = project.records()
    labels = {"first", "early", "early_prod", "settings", "late", "last", "dormant"}
    # prod's `early` replaced base's in place (same name: the same place among equals), now
    # after Kedro's hooks (600); `last` forgotten; `first` switched off, `dormant` on.
    assert _labels(records, "total", labels) == ["settings", "late", "dormant", "early_prod"]

    r = project.kedro("--env", "prod", HOOKRUNNER_DISABLE="frist")
    assert r.returncode == 2
    assert "HOOKRUNNER_DISABLE:1:1: no hook is named 'frist' (did you mean 'first'?)" in r.stderr


def test_parallel_runner_without_and_with_the_manifests_workers(project):
    pipeline = """
  - {name: pipeline, event: before_pipeline_run, call: "kedro_manifest_hooks:pipeline", with: {label: pipeline}}
"""
    project.manifests(base=BASE + pipeline)
    r = project.kedro("--runner", "ParallelRunner")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    records = project.records()
    (driver,) = {x["pid"] for x in records if x["label"] == "pipeline"}
    # Kedro runs settings.py's node hooks in its workers; without the opt-in ours do not run.
    assert {x["node"] for x in records if x["label"] == "settings"} == {
        "prepare",
        "double",
        "total",
    }
    assert not [x for x in records if x["label"] in {"first", "early", "late", "last"}]
    assert "manifest hooks not run by ParallelRunner: early, first, last, late" in out
    (listed,) = project.sessions()
    assert listed["status"] == "ok" and listed["summary"]["nodes_run"] is None

    project.manifests(
        base=BASE + pipeline, local="version: 1\nsettings: {kedro: {workers: true}}\n"
    )
    # fork (Linux's default), then spawn: a fresh interpreter per worker, nothing inherited.
    for context, kedros in (("fork", ["settings"]), ("spawn", [])):
        r = project.kedro("--runner", "ParallelRunner", KEDRO_MP_CONTEXT=context)
        out = r.stdout + r.stderr
        assert r.returncode == 0, out[-3000:]
        records = project.records()
        (driver,) = {x["pid"] for x in records if x["label"] == "pipeline"}
        workers = {x["pid"] for x in records if x["label"] == "first"}
        assert workers and driver not in workers
        # (Kedro itself sets the project up in a worker only when the default start method
        # is spawn or forkserver, so under KEDRO_MP_CONTEXT=spawn on Linux settings.py's
        # hooks are not registered there; the manifest is rebuilt from its files all the same.)
        for node in ("prepare", "double", "total"):
            assert _labels(records, node, ORDER) == ["first", "early", *kedros, "late", "last"]
        (listed,) = project.sessions()
        assert listed["summary"]["nodes_run"] == 3
        shown = project.session(listed["id"])
        worker_calls = [c for c in shown["calls"] if c["event"] == "before_node_run"]
        assert len(worker_calls) == 12
        assert {c["worker"] for c in worker_calls} == {f"pid {pid}" for pid in workers}
        assert [c["worker"] for c in shown["calls"] if c["hook"] == "pipeline"] == [None]
        assert sorted(n["node"] for n in shown["nodes"]) == ["double", "prepare", "total"]
        assert {n["lane"] for n in shown["nodes"]} <= {f"pid {pid}" for pid in workers}


def test_a_project_without_a_manifest_sees_no_change(project):
    project.manifests()
    r = project.kedro()
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    (seen,) = [x for x in project.records() if x["label"] == "settings.after_pipeline_run"]
    # The entry point holds one after_context_created wrapper; nothing else of ours is in
    # Kedro's hook manager, nothing beyond the entry point's modules was imported.
    assert seen["impls"]["after_context_created"].count("hookrunner") == 1
    assert "hookrunner" not in seen["impls"]["before_node_run"]
    assert "hookrunner-manifest" not in json.dumps(seen["impls"])
    assert seen["modules"] == [
        "hookrunner",
        "hookrunner.kedro",
        "hookrunner.kedro.entry",
        "hookrunner.kedro.handoff",
        "hookrunner.kedro.locate",
        "hookrunner.kernel",
        "hookrunner.kernel.version",
    ]
    assert not (project.root / ".hookrunner").exists()


def test_list_kedro_shows_the_order_kedro_run_calls(project):
    bad = "  - {name: x, event: nope, call: 'os:getpid'}"
    project.manifests(base=BASE, local=f"version: 1\nhooks:\n{bad}\n")
    r = project.hookrunner("list", "--kedro", ".")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    column = bad.index("nope") + 1
    assert (
        f"conf/local/hooks.yaml:3:{column}: hooks[0] 'x' → event: unknown event 'nope'" in r.stderr
    )

    project.manifests(base=BASE)
    r = project.hookrunner("list", "--kedro", ".", "--event", "before_node_run", "--format", "json")
    assert r.returncode == 0, r.stderr
    listing = json.loads(r.stdout)
    assert listing["manifests"] == [str(project.root / "conf/base/hooks.yaml")]
    assert listing["settings"].endswith("src/kr_proj/settings.py")
    rows = listing["hooks"]
    names = [x["name"] for x in rows]
    assert names[:2] == ["first", "early"] and names[-2:] == ["late", "last"]
    middle = rows[2:-2]
    assert "SettingsHooks.before_node_run" in [x["name"] for x in middle]
    assert {x["origin"] for x in middle} == {"settings.py", "plugin"}  # kedro-viz's too
    assert [x["kedro"] for x in rows[:2] + rows[-2:]] == ["before", "before", "after", "after"]
    assert {x["parallel"] for x in rows[:2] + rows[-2:]} == {"not run"}
    assert {x["parallel"] for x in middle} == {"worker"}

    # The same order a run takes (ThreadRunner: the hooks run on its pool's threads, and
    # the session records each node's thread).
    r = project.kedro("--runner", "ThreadRunner")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    ran = _labels(project.records(), "total", ORDER)
    (session,) = project.sessions()
    lanes = {n["lane"] for n in project.session(session["id"])["nodes"]}
    assert lanes and all(lane and lane.startswith("ThreadPoolExecutor") for lane in lanes)
    shown = {"hookrunner": lambda x: x["name"], "settings.py": lambda x: "settings"}
    listed = [shown[x["origin"]](x) for x in rows if x["origin"] in shown]
    assert listed == ran
