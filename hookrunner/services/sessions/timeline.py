"""A session's timeline as one self-contained HTML page (``sessions show ID --html FILE``).

The page is a Gantt chart drawn in inline SVG: one lane per thread or worker that ran
something, a bar per node (its width is its duration; failed nodes red), every hook call as
a mark at the time it ran (failures red, vetoes amber), and a tooltip on hover with the name,
the duration and the error. Below it: the hook summary (calls, failures, total and slowest
time per hook) and the slowest single calls. A host application's session has no nodes: its
hook calls are marks on the lane of the thread that emitted them. No network: the CSS and
the few lines of JavaScript for the tooltip are inline.

``timeline(store, id)`` reads the store into a ``Timeline``; ``render(timeline)`` draws it.
Times are milliseconds from the session's start; a hook call's row is stamped when its emit
ended, so a call spans ``[ts - duration, ts]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

from .store import Store

MAX_MARKS = 5000  # hook calls drawn at most (failures and vetoes always are)
MAX_LISTED = 200  # failures and vetoes listed below the chart at most
CHART_W = 940  # px of time axis
LABEL_W = 170  # px of lane names
LANE_H = 40
AXIS_H = 28


@dataclass(frozen=True, slots=True)
class Bar:
    """A node on its lane."""

    lane: str
    name: str
    start_ms: float
    ms: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """A hook call on its lane."""

    lane: str
    event: str
    hook: str
    start_ms: float
    ms: float
    error: str | None = None
    vetoed: bool = False


@dataclass
class Timeline:
    """What the page shows, read from the store."""

    session: dict[str, Any]
    lanes: list[str]
    bars: list[Bar]
    marks: list[Mark]
    total_ms: float
    stats: list[dict[str, Any]]
    slowest: list[Mark]
    calls: int = 0  # hook calls in the session (marks may be fewer)
    hidden: int = 0  # calls not drawn (past MAX_MARKS)
    failed: list[Mark] = field(default_factory=list)  # failed and vetoing calls


def timeline(store: Store, session_id: str) -> Timeline:
    """The timeline of one session (``session_id`` as ``Store.session`` takes it)."""
    s = store.session(session_id)
    sid = s["id"]
    nodes = store.nodes(sid)
    calls = store.hook_calls(sid)
    remote = any(n["lane"] and "://" in n["lane"] for n in nodes) or any(c["worker"] for c in calls)
    home = "driver" if remote else "main"
    t0 = min(
        [s["started"]]
        + [n["started"] for n in nodes]
        + [c["ts"] - c["duration_ms"] / 1e3 for c in calls]
    )

    def rel(ts: float) -> float:
        return (ts - t0) * 1e3

    bars = [
        Bar(
            n["lane"] or home,
            n["node"],
            rel(n["started"]),
            max(0.0, (n["ended"] - n["started"]) * 1e3),
            n["error"],
        )
        for n in nodes
    ]
    marks = [
        Mark(
            c["lane"] or c["worker"] or home,
            c["event"],
            c["hook"],
            rel(c["ts"]) - c["duration_ms"],
            c["duration_ms"],
            c["error"],  # a failure's, or a veto's reason
            c["vetoed"],
        )
        for c in calls
    ]
    end = max(
        [rel(s["ended"]) if s.get("ended") else 0.0]
        + [b.start_ms + b.ms for b in bars]
        + [m.start_ms + m.ms for m in marks]
    )
    lanes = _lanes({b.lane for b in bars} | {m.lane for m in marks} or {home}, home)
    drawn, hidden = _choose(marks)
    return Timeline(
        session=s,
        lanes=lanes,
        bars=bars,
        marks=drawn,
        total_ms=max(end, 1e-3),
        stats=store.hook_stats(sid),
        slowest=sorted(marks, key=lambda m: m.ms, reverse=True)[:10],
        calls=len(calls),
        hidden=hidden,
        failed=[m for m in marks if m.error is not None],
    )


def _lanes(names: set[str], home: str) -> list[str]:
    """The session's own thread first, then the others in natural order (node_2 < node_10)."""

    def key(name: str) -> tuple[Any, ...]:
        parts = [int(p) if p.isdigit() else p for p in _split_digits(name)]
        return (name != home, [(isinstance(p, int), p) for p in parts])

    return sorted(names, key=key)


def _split_digits(text: str) -> list[str]:
    out: list[str] = []
    for ch in text:
        if out and out[-1][-1].isdigit() == ch.isdigit():
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _choose(marks: list[Mark]) -> tuple[list[Mark], int]:
    """At most ``MAX_MARKS`` marks: every failure and veto, then the longest calls."""
    if len(marks) <= MAX_MARKS:
        return marks, 0
    keep = [m for m in marks if m.error is not None]
    rest = sorted((m for m in marks if m.error is None), key=lambda m: -m.ms)
    keep += rest[: max(0, MAX_MARKS - len(keep))]
    keep.sort(key=lambda m: m.start_ms)
    return keep, len(marks) - len(keep)


# --------------------------------------------------------------------------- drawing


def _ms(ms: float) -> str:
    if ms == 0:
        return "0"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 1:
        return f"{ms:.1f} ms"
    return f"{ms * 1000:.0f} µs"


def _step(total_ms: float) -> float:
    """A round tick interval giving about eight ticks."""
    raw = total_ms / 8
    base = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for f in (1, 2, 5, 10):
        if raw <= f * base:
            return f * base
    return 10 * base


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _svg(tl: Timeline) -> str:
    scale = CHART_W / tl.total_ms
    height = AXIS_H + LANE_H * len(tl.lanes) + 8
    row = {lane: i for i, lane in enumerate(tl.lanes)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="{LABEL_W + CHART_W + 20}"'
        f' height="{height}" data-total-ms="{tl.total_ms:.3f}" data-scale="{scale:.6f}">'
    ]
    step = _step(tl.total_ms)
    t = 0.0
    while t <= tl.total_ms + 1e-9:
        x = LABEL_W + t * scale
        out.append(
            f'<line class="tick" x1="{x:.2f}" y1="{AXIS_H - 6}" x2="{x:.2f}" y2="{height}"/>'
            f'<text class="tick-label" x="{x:.2f}" y="{AXIS_H - 10}">{escape(_ms(t))}</text>'
        )
        t += step
    for lane, i in row.items():
        y = AXIS_H + i * LANE_H
        out.append(
            f'<rect class="lane{" odd" if i % 2 else ""}" x="0" y="{y}"'
            f' width="{LABEL_W + CHART_W + 20}" height="{LANE_H}"/>'
            f'<text class="lane-label" x="6" y="{y + LANE_H / 2 + 4}">'
            f"<title>{escape(lane)}</title>{escape(_short(lane, 24))}</text>"
        )
    for b in tl.bars:
        y = AXIS_H + row[b.lane] * LANE_H + 6
        x = LABEL_W + b.start_ms * scale
        w = max(b.ms * scale, 1.0)
        tip = f"node {b.name} — {_ms(b.ms)}" + (f" — {b.error}" if b.error else "")
        state = "failed" if b.error else "ok"
        out.append(
            f'<rect class="bar {state}" data-node="{escape(b.name)}" data-lane="{escape(b.lane)}"'
            f' data-ms="{b.ms:.3f}" data-tip="{escape(tip)}" x="{x:.2f}" y="{y}"'
            f' width="{w:.3f}" height="{LANE_H - 16}" rx="3"><title>{escape(tip)}</title></rect>'
        )
        if w > 7 * len(b.name) + 8:  # room for its name (12px text)
            out.append(
                f'<text class="bar-label" x="{x + 4:.2f}" y="{y + (LANE_H - 16) / 2 + 4}">'
                f"{escape(b.name)}</text>"
            )
    for m in sorted(tl.marks, key=lambda m: m.error is not None):  # failures on top
        y = AXIS_H + row[m.lane] * LANE_H + LANE_H - 14
        x = LABEL_W + m.start_ms * scale
        w = max(m.ms * scale, 2.0)
        state = "vetoed" if m.vetoed else ("failed" if m.error is not None else "ok")
        tip = f"{m.hook} ({m.event}) — {_ms(m.ms)}" + (f" — {m.error}" if m.error else "")
        out.append(
            f'<rect class="mark {state}" data-hook="{escape(m.hook)}" data-event="{escape(m.event)}"'
            f' data-ms="{m.ms:.4f}" data-tip="{escape(tip)}" x="{x:.2f}" y="{y}"'
            f' width="{w:.3f}" height="10"><title>{escape(tip)}</title></rect>'
        )
    out.append("</svg>")
    return "".join(out)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else "…" + text[-(n - 1) :]


def _table(title: str, head: list[str], rows: list[list[str]], cls: str) -> str:
    if not rows:
        return f"<h2>{escape(title)}</h2><p class='none'>none</p>"
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in r) + "</tr>" for r in rows
    )
    return f"<h2>{escape(title)}</h2><table class='{cls}'><tr>{th}</tr>{body}</table>"


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#57606a;margin:0 0 4px}.error{color:#cf222e;font-weight:600}
.chart{overflow-x:auto;border:1px solid #d0d7de;border-radius:6px;padding:4px 0}
svg text{font:12px system-ui,sans-serif}
.lane{fill:#ffffff}.lane.odd{fill:#f6f8fa}.lane-label{fill:#24292f;font-weight:600}
.tick{stroke:#d8dee4;stroke-width:1}.tick-label{fill:#57606a;text-anchor:middle}
.bar.ok{fill:#54aeff;stroke:#0969da}.bar.failed{fill:#ff8182;stroke:#cf222e;stroke-width:2}
.bar-label{fill:#0b2a4a;pointer-events:none}
.mark.ok{fill:#24292f;opacity:.75}.mark.failed{fill:#cf222e}.mark.vetoed{fill:#bf8700}
.legend span{display:inline-block;margin-right:16px}
.legend i{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left}
th{background:#f6f8fa}td.num,th.num{text-align:right}.none{color:#57606a}
#tip{position:fixed;display:none;pointer-events:none;background:#24292f;color:#fff;
padding:4px 8px;border-radius:4px;font-size:12px;max-width:520px;white-space:pre-wrap}
"""

_JS = """
(function(){var tip=document.getElementById('tip');
document.querySelectorAll('[data-tip]').forEach(function(el){
el.addEventListener('mousemove',function(e){tip.textContent=el.getAttribute('data-tip');
tip.style.display='block';tip.style.left=(e.clientX+12)+'px';tip.style.top=(e.clientY+12)+'px';});
el.addEventListener('mouseleave',function(){tip.style.display='none';});});})();
"""


def render(tl: Timeline) -> str:
    """The page (HTML text)."""
    s = tl.session
    took = "-" if s.get("ended") is None else _ms((s["ended"] - s["started"]) * 1e3)
    summary = s.get("summary") or {}
    vetoes = sum(1 for m in tl.failed if m.vetoed)
    failures = len(tl.failed) - vetoes
    head = [
        f"<h1>session {escape(s['id'])} <small>({escape(s['kind'])}, {escape(s['status'])})</small></h1>",
        f"<p class='meta'>started {_when(s['started'])}, took {took}"
        + (f" — {escape(s['source'])}" if s.get("source") else "")
        + "</p>",
        f"<p class='meta'>{len(tl.bars)} nodes on {len(tl.lanes)} lane(s), {tl.calls} hook calls,"
        f" {failures} failed, {vetoes} vetoed"
        + (f" ({tl.hidden} quick calls not drawn)" if tl.hidden else "")
        + "</p>",
    ]
    if summary.get("error"):
        head.append(f"<p class='error'>error: {escape(str(summary['error']))}</p>")
    legend = (
        "<p class='legend'><span><i style='background:#54aeff'></i>node</span>"
        "<span><i style='background:#ff8182'></i>failed node</span>"
        "<span><i style='background:#24292f'></i>hook call</span>"
        "<span><i style='background:#cf222e'></i>failed hook</span>"
        "<span><i style='background:#bf8700'></i>veto</span></p>"
    )
    stats = _table(
        "hooks",
        ["event", "hook", "calls", "failed", "total ms", "max ms"],
        [
            [
                h["event"],
                h["hook"],
                str(h["calls"]),
                str(h["failures"] or 0),
                f"{h['total_ms']:.3f}",
                f"{h['max_ms']:.3f}",
            ]
            for h in tl.stats
        ],
        "stats",
    )
    slowest = _table(
        "slowest hook calls",
        ["hook", "event", "ms", "at", "lane", "error"],
        [
            [m.hook, m.event, f"{m.ms:.3f}", _ms(m.start_ms), m.lane, m.error or ""]
            for m in tl.slowest
        ],
        "slowest",
    )
    problems = _table(
        "failures and vetoes"
        + (f" (the first {MAX_LISTED} of {len(tl.failed)})" if len(tl.failed) > MAX_LISTED else ""),
        ["hook", "event", "at", "lane", "error or reason"],
        [[m.hook, m.event, _ms(m.start_ms), m.lane, m.error or ""] for m in tl.failed[:MAX_LISTED]],
        "failures",
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>hookrunner session {escape(s['id'])}</title><style>{_CSS}</style></head><body>"
        + "".join(head)
        + legend
        + f"<div class='chart'>{_svg(tl)}</div>"
        + stats
        + slowest
        + problems
        + f"<div id='tip'></div><script>{_JS}</script></body></html>\n"
    )
