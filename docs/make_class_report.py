"""Rebuild docs/class-report.png: a real `grade batch hw2 --report` over 50 generated
submissions of mixed kinds (tests/classmaker.py), rendered in headless Chromium.

    python3 docs/make_class_report.py            # about 6 minutes on 2 busy cores
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import browser  # noqa: E402
from tests.classmaker import make_class  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="class-report-") as tmp:
        folder, out = Path(tmp) / "submissions", Path(tmp) / "hw2-grades"
        make_class(folder, 50)
        page = out / "report.html"
        grade = [sys.executable, "-m", "grader.cli", "batch", "hw2", str(folder), "--root", str(REPO), "-j", "2", "--out", str(out), "--report", str(page)]
        subprocess.run(grade, check=True)
        seen = browser.visit(page, screenshot=True)
        if seen.problems or seen.requests != [page.resolve().as_uri()]:
            sys.exit(f"the page did not load cleanly: {seen.problems} {seen.requests}")
        from PIL import Image  # matplotlib's own dependency

        target = REPO / "docs" / "class-report.png"
        Path(tmp, "shot.png").write_bytes(seen.screenshot)
        Image.open(Path(tmp, "shot.png")).convert("RGB").quantize(colors=64).save(target, optimize=True)
        print(f"wrote {target.relative_to(REPO)}")


if __name__ == "__main__":
    main()
