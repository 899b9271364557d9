"""Headless Chromium for tests that check what a person sees: the DOM text after rendering and a screenshot.

``chromium()`` finds the browser; when it is missing the caller skips, unless ``SYMCORR_REQUIRE_BROWSER=1``
(set by ``.ci/run``, which installs Debian's ``chromium``), in which case that is a failure: CI must not
pass a browser test by skipping it.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
          "--disable-dev-shm-usage", "--allow-file-access-from-files"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("SYMCORR_REQUIRE_BROWSER") == "1":
        pytest.fail("headless Chromium is required (SYMCORR_REQUIRE_BROWSER=1) but not installed")
    pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium)")


def rendered_dom(page: Path, timeout: int = 120) -> str:
    """The DOM after Chromium has loaded ``page`` (serialised HTML)."""
    proc = subprocess.run([chromium(), *_FLAGS, "--dump-dom", page.resolve().as_uri()], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0 or "<body" not in proc.stdout:
        raise AssertionError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def visible_text(dom: str) -> str:
    """The text a reader sees outside MathML (math is rendered by the browser, its source is not shown)."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    dom = re.sub(r"<math\b.*?</math>", " ", dom, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


def screenshot(page: Path, out: Path, size=(1200, 2000), timeout: int = 120) -> Path:
    proc = subprocess.run([chromium(), *_FLAGS, f"--window-size={size[0]},{size[1]}", f"--screenshot={out}",
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not out.is_file():
        raise AssertionError(f"chromium screenshot failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return out
