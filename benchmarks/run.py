"""Run every benchmark side by side and print the measurements and one table of ratios.

    python benchmarks/run.py [--quick] [--json PATH] [--only NAME ...]

``--quick`` runs fewer rounds (CI runs it so the benchmarks never rot; it asserts nothing
about speed). Each module under ``benchmarks/`` exposes ``run(quick) -> list[dict]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Row  # noqa: E402

# In the order they are reported; a module that is not there yet is skipped with a note.
MODULES = (
    "emit",
    "pipeline",
    "memory",
    "reload_latency",
    "validate_cli",
    "claude_hook",
    "completion",
    "load",
    "dask_speedup",
    "kedro_run",
)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
    }


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def _table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in body:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)


def render(rows: list[Row]) -> str:
    measures = [r for r in rows if r["kind"] == "measure"]
    ratios = [r for r in rows if r["kind"] == "ratio"]
    m = _table(
        ["benchmark", "case", "subject", "median", "min–max"],
        [
            [
                r["benchmark"],
                r["case"],
                r["subject"],
                f"{_fmt(r['median'])} {r['unit']}",
                f"{_fmt(r['min'])}–{_fmt(r['max'])}",
            ]
            for r in measures
        ],
    )
    verdict = {True: "yes", False: "NO", None: "info"}
    t = _table(
        [
            "benchmark",
            "case",
            "ours",
            "ours median",
            "peer",
            "peer median",
            "ratio",
            "target",
            "holds",
        ],
        [
            [
                r["benchmark"],
                r["case"],
                r["ours"],
                f"{_fmt(r['ours_median'])} {r['unit']}",
                r["peer"],
                "-" if r["peer_median"] is None else f"{_fmt(r['peer_median'])} {r['unit']}",
                "-" if r["ratio"] is None else f"{r['ratio']:.2f}",
                r["target"],
                verdict[r["holds"]],
            ]
            for r in ratios
        ],
    )
    return f"Measurements (medians of interleaved rounds)\n\n{m}\n\nRatios\n\n{t}\n"


def write_json(path: Path, payload: dict) -> None:
    """Atomic: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (under a minute)")
    parser.add_argument("--json", type=Path, help="also write every row to this JSON file")
    parser.add_argument("--only", nargs="+", choices=MODULES, help="run only these modules")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows: list[Row] = []
    skipped: list[str] = []
    for name in args.only or MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            skipped.append(name)
            continue
        t0 = time.perf_counter()
        got = module.run(args.quick)
        rows.extend(got)
        print(f"# {name}: {len(got)} rows in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    info = machine()
    print(f"hookrunner benchmarks on {info['cpu']}, {info['cores']} cores, {info['python']}")
    print(f"({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f}s)\n")
    print(render(rows))
    if skipped:
        print(f"not available yet: {', '.join(skipped)}")
    if args.json:
        write_json(args.json, {"machine": info, "quick": args.quick, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
