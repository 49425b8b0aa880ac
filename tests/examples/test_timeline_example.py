"""examples/timeline run as its README says: the run's last lines name the timeline command,
which writes the page; headless Chromium (Debian's package) draws it to a PNG whose size and
pixels show the chart: node bars, the failed node, hook marks."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "timeline"
WINDOW = (1240, 900)


def _hookrunner(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hookrunner", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def screenshot(page: Path, png: Path, profile: Path) -> None:
    """Draw ``page`` with headless Chromium into ``png`` (a fresh profile, no network)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed: apt-get install -y chromium (.ci/run does)")
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]


def _near(pixel: tuple[int, ...], color: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], color, strict=True))


def test_the_timeline_of_a_run_drawn_by_a_browser(tmp_path):
    from PIL import Image

    root = tmp_path / "timeline"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns(".hookrunner", "out", "__pycache__")
    )
    run = _hookrunner(
        root,
        "run",
        "pipeline.yaml",
        "--runner",
        "thread",
        "--workers",
        "3",
        "--params",
        "fail_publish=true",
    )
    assert run.returncode == 1, run.stderr
    (line,) = [ln for ln in run.stdout.splitlines() if ln.startswith("timeline: ")]
    command = shlex.split(line.removeprefix("timeline: "))
    assert command[:3] == ["hookrunner", "sessions", "show"] and command[-2:] == [
        "--html",
        "report.html",
    ]
    shown = _hookrunner(root, *command[1:])
    assert shown.returncode == 0, shown.stderr
    page = root / "report.html"
    assert "written to report.html" in shown.stdout and page.stat().st_size > 2000
    # A place that cannot be written: a clear error, exit 2, no traceback.
    blocked = _hookrunner(root, *command[1:-1], "report.html/inside.html")
    assert blocked.returncode == 2 and "cannot write report.html/inside.html" in blocked.stderr
    assert "Traceback" not in blocked.stderr

    png = tmp_path / "timeline.png"
    screenshot(page, png, tmp_path / "chromium-profile")
    image = Image.open(png).convert("RGB")
    assert image.size == WINDOW
    colors = image.getcolors(maxcolors=WINDOW[0] * WINDOW[1])  # [(count, (r, g, b)), ...]

    def count(test) -> int:
        return sum(n for n, c in colors if test(c))

    node = count(lambda c: _near(c, (0x54, 0xAE, 0xFF)))  # node bars
    failed = count(lambda c: _near(c, (0xFF, 0x81, 0x82)))  # the failed node
    dark = count(lambda c: max(c) < 90)  # text and hook marks
    white = count(lambda c: c == (255, 255, 255))
    assert node > 20_000, node  # seven bars of tens of pixels by 24
    assert failed > 300, failed
    assert dark > 5_000, dark
    assert white < 0.95 * WINDOW[0] * WINDOW[1]
    assert len(colors) > 100  # drawn, not a blank or single-colour page
