"""The Gradescope autograder zip: setup.sh, run_autograder, and the source they need.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once when building
the image, then run_autograder per submission (uploaded into /autograder/submission).
run_autograder must always leave /autograder/results/results.json: when grading
crashes or times out it writes a 0 with the reason.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .manifest import Assignment

GRADER_ROOT = Path(__file__).resolve().parents[1]

SETUP = """#!/usr/bin/env bash
set -euo pipefail
apt-get update && apt-get install -y python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install "torch>=2.1,<3" --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install /autograder/source/grader-package
"""

RUN = """#!/usr/bin/env bash
# One submission: whatever the student uploaded, as a folder, or their notebook.
cd /autograder/source
mkdir -p /autograder/results
submission=/autograder/submission
if [ ! -f "$submission/{first_file}" ]; then
  notebook=$(ls "$submission"/*.ipynb 2>/dev/null | head -n 1)
  script=$(ls "$submission"/*.py 2>/dev/null | head -n 1)
  if [ -n "$notebook" ]; then submission="$notebook"; elif [ -n "$script" ]; then submission="$script"; fi
fi
timeout {seconds} /autograder/venv/bin/grade {name} --root /autograder/source --submission "$submission" \\
  --format gradescope -o /autograder/results/results.json
if [ ! -s /autograder/results/results.json ]; then
  cat > /autograder/results/results.json <<'JSON'
{{"score": 0, "output": "The grader did not finish (it crashed or ran out of time). Your instructor will regrade this submission.", "tests": []}}
JSON
fi
"""


def export(assignment: Assignment, out: Path, *, time_limit_minutes: int = 25) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{assignment.name}-gradescope.zip"
    files = assignment.files or ((assignment.competition.program,) if assignment.competition else ("submission.py",))
    first_file = files[0]
    scripts = {
        "setup.sh": SETUP,
        "run_autograder": RUN.format(name=assignment.name, first_file=first_file, seconds=time_limit_minutes * 60),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope runs them
            z.writestr(info, text)
        _add_tree(z, assignment.directory, f"assignments/{assignment.name}")
        _add_tree(z, assignment.reference_dir, f"reference/{assignment.name}")
        _add_tree(z, GRADER_ROOT / "grader", "grader-package/grader")
        for extra in ("pyproject.toml", "README.md"):
            z.write(GRADER_ROOT / extra, f"grader-package/{extra}")
    target.write_bytes(buf.getvalue())
    return target


def _add_tree(z: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.is_symlink():
            z.write(path, f"{prefix}/{path.relative_to(folder)}")
