"""The timeline page's structure, parsed: a bar per node with widths proportional to the
durations the store holds, hook calls as marks (failures and vetoes marked), lanes per thread,
and nothing fetched from the network. Drawn in a browser by tests/examples."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sources import source

from hookrunner import HookRunner
from hookrunner.pipeline.lifecycle import run_pipeline
from hookrunner.services.sessions.store import Store
from hookrunner.services.sessions.timeline import render, timeline


class Page(HTMLParser):
    """The SVG's rects and lane labels, and every tag seen."""

    def __init__(self, text: str):
        super().__init__()
        self.rects: list[dict[str, str]] = []
        self.svg: dict[str, str] = {}
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.labels: list[str] = []
        self._label = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "svg":
            self.svg = a
        elif tag == "rect":
            self.rects.append(a)
        elif tag == "text" and a.get("class") == "lane-label":
            self._label = True

    def handle_data(self, data):
        if self._label and data.strip():
            self.labels.append(data.strip())
            self._label = False

    def of(self, cls: str) -> list[dict[str, str]]:
        return [r for r in self.rects if r.get("class") == cls]


def _run(project):
    nodes = project.module(source("timeline_nodes"), "tln")
    hooks = project.module(source("timeline_hooks"), "tlh")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: audit, event: before_node_run, call: {hooks}:audit}}
          - {{name: notify, event: after_node_run, call: {hooks}:notify, on_error: continue}}
          - {{name: policy, event: pre_checkpoint, call: {hooks}:policy}}
        """,
    )
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{a: 0.08, b: 0.16, c: 0.04}}
        nodes:
          - {{name: a, func: {nodes}:nap, inputs: ["params:a"], outputs: x}}
          - {{name: b, func: {nodes}:nap, inputs: ["params:b"], outputs: y}}
          - {{name: c, func: {nodes}:nap, inputs: ["params:c"], outputs: z}}
          - {{name: d, func: {nodes}:boom, inputs: [x], outputs: w}}
        """,
    )
    result = run_pipeline(path, runner="thread", workers=3, store=project.root / "s.db")
    assert not result.ok and result.nodes_failed == ["d"]
    return Store(project.root / "s.db"), result.session_id


def test_one_bar_per_node_widths_proportional_failures_and_vetoes_marked(project):
    store, sid = _run(project)
    page = Page(render(timeline(store, sid)))
    scale = float(page.svg["data-scale"])
    stored = {n["node"]: n for n in store.nodes(sid)}
    bars = {r["data-node"]: r for r in page.rects if r["class"].startswith("bar ")}
    assert set(bars) == {"a", "b", "c", "d"} == set(stored)
    assert len([r for r in page.rects if r["class"].startswith("bar ")]) == 4
    for name, bar in bars.items():
        ms = (stored[name]["ended"] - stored[name]["started"]) * 1e3
        assert abs(float(bar["data-ms"]) - ms) < 0.01
        # Proportional, one scale for all (a bar is at least a pixel wide: d fails at once).
        assert abs(float(bar["width"]) - max(ms * scale, 1.0)) < 0.01
        assert bar["data-lane"] == stored[name]["lane"]
    width = {n: float(b["width"]) for n, b in bars.items()}
    assert width["b"] > width["a"] > width["c"]
    assert bars["d"]["class"] == "bar failed" and "cannot publish 0.08" in bars["d"]["data-tip"]
    assert {bars[n]["class"] for n in "abc"} == {"bar ok"}
    # The independent nodes ran side by side, each on a lane of its own.
    assert len({bars[n]["data-lane"] for n in "abc"}) == 3
    assert set(page.labels) >= {stored[n]["lane"] for n in "abc"}
    # Every hook call is a mark; the failure and the veto are marked as such.
    marks = [r for r in page.rects if r["class"].startswith("mark ")]
    assert len(marks) == len(store.hook_calls(sid))
    (failed,) = page.of("mark failed")
    assert failed["data-hook"] == "notify" and "webhook down" in failed["data-tip"]
    (vetoed,) = page.of("mark vetoed")
    assert vetoed["data-hook"] == "policy" and "b is recomputed" in vetoed["data-tip"]
    # Hovering says the name, the duration and the error (or the veto's reason).
    assert re.fullmatch(
        r"policy \(pre_checkpoint\) — [\d.]+ (µs|ms) — vetoed: b is recomputed", vetoed["data-tip"]
    )


def test_the_page_fetches_nothing(project):
    store, sid = _run(project)
    text = render(timeline(store, sid))
    page = Page(text)
    assert not [t for t, a in page.tags if t in ("link", "img", "iframe") or "src" in a]
    assert "https://" not in text
    assert text.count("http://") == 1 and 'xmlns="http://www.w3.org/2000/svg"' in text


def test_a_host_session_has_its_events_on_one_lane(project):
    hooks = project.module(source("timeline_hooks"), "tlh")
    manifest = project.write(
        "hooks.yaml",
        f"version: 1\nhooks: [{{name: guard, event: pre_tool_execution, call: '{hooks}:guard'}}]\n",
    )
    with HookRunner.from_files(manifest) as runner:
        with runner.session(session_id="agent-7", store=project.root / "s.db") as s:
            for tool in ("ls", "rm", "cat"):
                s.emit("pre_tool_execution", tool_name=tool)
    store = Store(project.root / "s.db")
    page = Page(render(timeline(store, "agent-7")))
    assert not [r for r in page.rects if r["class"].startswith("bar ")]
    assert page.labels == ["main"]
    marks = [r for r in page.rects if r["class"].startswith("mark ")]
    assert len(marks) == 3 and [m["class"] for m in marks].count("mark vetoed") == 1
