"""Render an HTML run report in headless Chromium and check charts are drawn and the screenshot is not blank.

    assert_report_renders(path, {"segment-sizes": 1, "rfm": 1})   # section id -> charts expected

Skips (printing why) when Debian's chromium is not installed (`make test` installs it when it can).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
WINDOW = (1280, 2400)
VIRTUAL_TIME_MS = 5000
TIMEOUT_S = 120
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={WINDOW[0]},{WINDOW[1]}",
         f"--virtual-time-budget={VIRTUAL_TIME_MS}")
SECTION_RE = re.compile(r'<section id="([^"]+)"(.*?)</section>', re.S)
MIN_COLOURS = 20
MIN_INK_SHARE = 0.02


@dataclass(frozen=True)
class Rendered:
    """What Chromium made of a page: the DOM after scripts ran, and a screenshot."""

    dom: str
    png: bytes


def chromium() -> str:
    """Path of the chromium binary; skips the test (with the reason) when it is missing."""
    path = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        pytest.skip(f"{CHROMIUM} not installed (Debian package 'chromium'; `make test` installs it as root)")
    return path


def _chromium(args: list[str], profile: str) -> subprocess.CompletedProcess:
    """Run headless chromium once with its own throw-away profile."""
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise AssertionError(f"chromium failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr.decode()[-2000:]}")
    return done


def render(path: Path) -> Rendered:
    """Dump the DOM (after plotly.js ran) and take a full-window screenshot of a report file."""
    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="journey-chromium-") as tmp:
        dom = _chromium(["--dump-dom", url], f"{tmp}/dom").stdout.decode()
        shot = Path(tmp, "shot.png")
        _chromium([f"--screenshot={shot}", url], f"{tmp}/shot")
        return Rendered(dom, shot.read_bytes())


def drawn_charts(dom: str) -> dict[str, int]:
    """Section id -> number of plotly charts drawn in it (js-plotly-plot divs holding a main-svg)."""
    return {sid: body.count("js-plotly-plot") if "main-svg" in body else 0 for sid, body in SECTION_RE.findall(dom)}


def ink(png: bytes) -> tuple[int, float]:
    """(distinct colours, share of non-white pixels) of a screenshot."""
    import numpy as np
    import tensorflow as tf  # the stack's image decoder (Pillow is not a dependency)

    pixels = tf.io.decode_png(png, channels=3).numpy().reshape(-1, 3)
    colours = len(np.unique(pixels[:: max(1, len(pixels) // 200_000)], axis=0))
    return colours, float((pixels.min(axis=1) < 245).mean())


def assert_report_renders(path: Path, expected_charts: dict[str, int]) -> Rendered:
    """The report opens in Chromium, each listed section shows its charts, and the screenshot is not blank."""
    assert Path(path).is_file(), f"report {path} was not written"
    rendered = render(path)
    drawn = drawn_charts(rendered.dom)
    for section, count in expected_charts.items():
        assert section in drawn, f"section {section!r} missing from {path}; sections: {sorted(drawn)}"
        assert drawn[section] >= count, f"section {section!r} of {path}: {drawn[section]} charts drawn, expected {count}"
    colours, share = ink(rendered.png)
    assert colours >= MIN_COLOURS and share >= MIN_INK_SHARE, (
        f"screenshot of {path} looks blank: {colours} colours, {share:.1%} non-white")
    return rendered
