"""A static type check of the package (mypy) against a recorded baseline.

The baseline ``tests/data/mypy_baseline.txt`` lists today's errors (file, error code and message; line
numbers left out so that edits elsewhere do not churn it).  The test fails when mypy reports an error the
baseline does not list (a regression) and when the baseline lists an error mypy no longer reports (fixed:
remove it, so the baseline only shrinks).  Regenerate it with
``python tests/test_typecheck.py --write-baseline``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tests" / "data" / "mypy_baseline.txt"
_LINE = re.compile(r"^(?P<file>symcorr/[^:]+):\d+: error: (?P<message>.*?)\s+\[(?P<code>[a-z0-9-]+)\]$")


def run_mypy(cache_dir: Path) -> Counter:
    proc = subprocess.run([sys.executable, "-m", "mypy", "symcorr", "--cache-dir", str(cache_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    if proc.returncode not in (0, 1) or "error: " not in proc.stdout and proc.returncode == 1:
        raise RuntimeError(f"mypy did not run: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    found: Counter = Counter()
    for line in proc.stdout.splitlines():
        m = _LINE.match(line.strip())
        if m:
            found[f"{m['file']} [{m['code']}] {m['message']}"] += 1
    return found


def read_baseline() -> Counter:
    lines = [ln for ln in BASELINE.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    return Counter(lines)


def test_mypy_reports_nothing_beyond_the_baseline(tmp_path):
    pytest.importorskip("mypy")
    found = run_mypy(tmp_path / "mypy-cache")
    baseline = read_baseline()
    new = found - baseline
    fixed = baseline - found
    assert not new, "new type errors (fix them):\n" + "\n".join(sorted(new.elements()))
    assert not fixed, ("errors in the baseline that mypy no longer reports; remove them from "
                       f"{BASELINE.relative_to(ROOT)}:\n" + "\n".join(sorted(fixed.elements())))


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if "--write-baseline" in sys.argv:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            errors = run_mypy(Path(tmp))
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE.write_text("# mypy errors accepted today (see tests/test_typecheck.py); this list only shrinks\n"
                            + "".join(f"{e}\n" for e in sorted(errors.elements())), encoding="utf-8")
        print(f"wrote {BASELINE}: {sum(errors.values())} errors")
