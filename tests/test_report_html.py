"""The demo's HTML report opened in headless Chromium: it renders, charts included, at a
desktop and at a phone width, with nothing loaded from the network.

Chromium is found on PATH (`chromium`, `chromium-browser`, `google-chrome`) or in
$EREPUT_CHROMIUM; `python3 dev.py test` installs it when missing. Without it the test is
skipped, except under CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ereput.cli import app


def chromium() -> str:
    for name in (
        os.environ.get("EREPUT_CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if name and (path := shutil.which(name)):
            return path
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: `python3 dev.py test` installs it")
    pytest.skip("Chromium is not installed (python3 dev.py test installs it)")


def screenshot(page: Path, out: Path, width: int, height: int) -> list[tuple[int, ...]]:
    """Chromium's screenshot of `page` as rows of RGB(A) pixels."""
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",  # as root in CI
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # Nothing may leave the machine: every request would go to a closed local port.
            "--proxy-server=http://127.0.0.1:9",
            f"--user-data-dir={out.parent / ('profile-' + out.stem)}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    return read_png(out.read_bytes())


def read_png(data: bytes) -> list[tuple[int, ...]]:
    """The pixels of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += size + 12
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and not interlace, (depth, colour, interlace)
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    pixels: list[tuple[int, ...]] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        pixels.extend(tuple(line[i : i + 3]) for i in range(0, stride, bpp))
        previous = line
    return pixels


def near(colour: tuple[int, ...], target: str, tolerance: int = 24) -> bool:
    rgb = tuple(int(target[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(colour, rgb, strict=True))


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    result = CliRunner().invoke(app, ["demo", "--db", str(folder / "demo.db"), "--format", "html"])
    assert result.exit_code == 0, result.output
    page = folder / "report.html"
    page.write_text(result.stdout, encoding="utf-8")
    text = result.stdout.lower()
    assert "<script" not in text and "<svg" in text
    # Self-contained: no stylesheet, font, image or frame from anywhere.
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert "<img" not in text and "<iframe" not in text
    return page


@pytest.mark.parametrize(("width", "height"), [(1280, 1800), (390, 2400)], ids=["desktop", "phone"])
def test_demo_report_renders_with_its_charts(demo_page, width, height):
    pixels = screenshot(demo_page, demo_page.parent / f"shot-{width}.png", width, height)
    assert len(pixels) == width * height
    colours = Counter(pixels)
    # Not blank: many colours, and most of the page is not one flat background.
    assert len(colours) > 200, len(colours)
    assert colours.most_common(1)[0][1] < 0.8 * len(pixels)
    # The charts are drawn: the community (blue) and open (orange) bars of the volume chart
    # and of the grid, the dark header.
    blue = sum(n for c, n in colours.items() if near(c, "#2563eb"))
    orange = sum(n for c, n in colours.items() if near(c, "#f59e0b"))
    header = sum(n for c, n in colours.items() if near(c, "#0f172a", 8))
    assert blue > 2000 and orange > 2000 and header > 5000, (blue, orange, header)
