"""The HTML email as a reader sees it: rendered by headless Chromium at phone and desktop widths, in light
and dark mode. The screenshots are kept in tests/artifacts/ (not versioned) to be looked at.

``make test`` installs Chromium when it is missing; without it this test fails rather than skips.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.test_notify_channels import sample_message

ARTIFACTS = Path(__file__).parent / "artifacts"
LIGHT_HIGHLIGHT = (0xFF, 0xF3, 0xA3)
DARK_HIGHLIGHT = (0x6B, 0x56, 0x00)
LIGHT_BACKGROUND = (0xFF, 0xFF, 0xFF)
DARK_BACKGROUND = (0x12, 0x12, 0x12)
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.fixture(scope="module")
def page() -> Iterator[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "alert.html"
    path.write_text(sample_message().html, encoding="utf-8")
    yield path


def screenshot(page: Path, name: str, size: tuple[int, int], dark: bool, tmp_path: Path) -> Image.Image:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: `make test` installs it (apt-get install chromium)"
    out = ARTIFACTS / f"alert-{name}-{'dark' if dark else 'light'}.png"
    out.unlink(missing_ok=True)
    command = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--hide-scrollbars",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={out}",
        f"--window-size={size[0]},{size[1]}",
        *(["--force-dark-mode"] if dark else []),
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return Image.open(out).convert("RGB")


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def pixels_near(image: Image.Image, colour: tuple[int, int, int]) -> list[tuple[int, int]]:
    width, height = image.size
    data = image.load()
    assert data is not None
    return [(x, y) for y in range(height) for x in range(width) if near(data[x, y], colour)]


def brightness(pixel: tuple[int, ...]) -> float:
    red, green, blue = pixel[:3]
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("name", list(SIZES))
def test_the_email_reads_well_at_phone_and_desktop_widths(
    page: Path, tmp_path: Path, name: str, dark: bool
) -> None:
    size = SIZES[name]
    image = screenshot(page, name, size, dark, tmp_path)
    assert image.size == size
    background = DARK_BACKGROUND if dark else LIGHT_BACKGROUND
    highlight, other = (DARK_HIGHLIGHT, LIGHT_HIGHLIGHT) if dark else (LIGHT_HIGHLIGHT, DARK_HIGHLIGHT)

    data = image.load()
    assert data is not None
    assert near(data[2, size[1] - 2], background)  # the page takes the scheme's background
    marked = pixels_near(image, highlight)
    assert len(marked) > 300  # "Rafale", "export" and "script" are highlighted
    assert not pixels_near(image, other)  # never the other scheme's highlight
    # The highlighted words stay readable: text inside the highlight contrasts with it.
    xs, ys = [x for x, _ in marked], [y for _, y in marked]
    inside = [data[x, y] for x in range(min(xs), max(xs) + 1) for y in range(min(ys), max(ys) + 1)]
    text = [p for p in inside if abs(brightness(p) - brightness(highlight)) > 100]
    assert len(text) > 50
    # Nothing runs past the right edge: the last columns (inside the body's padding) are background.
    edge = [data[x, y] for x in range(size[0] - 8, size[0]) for y in range(size[1])]
    assert all(near(p, background, 12) for p in edge)
