"""The Gradescope autograder zip: setup.sh, run_autograder, and the source they need.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once when building
the image, then run_autograder per submission (uploaded into /autograder/submission).
run_autograder must always leave /autograder/results/results.json: grade writes it
when it finishes (exit 0 or 1), a linked upload included (0 and the reason); when
grading crashes, times out or is refused (too weak a sandbox, exit 2) the fallback
replaces the file with a 0 and the reason.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ...manifest import Assignment
from ...release import bundle_trees

GRADER_ROOT = Path(__file__).resolve().parents[3]

SETUP = """#!/usr/bin/env bash
set -euo pipefail
apt-get update && apt-get install -y python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install "torch>=2.1,<3" --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install /autograder/source/grader-package
"""

RUN = """#!/usr/bin/env bash
# One submission: whatever the student uploaded, as a folder, or their notebook. The
# source folder is the autograder bundle: manifest, checks, data and labels come from it;
# the upload supplies only the student's files.
#
# Only grade writes the result, atomically, once every worker is dead. It signals that
# it finished by its exit status (0 or 1); anything else, or a timeout, and the fallback
# replaces whatever results.json holds, since student code may have written one.
cd /autograder/source
mkdir -p /autograder/results
results=/autograder/results/results.json
log=$(mktemp)
rm -f "$results"
submission=/autograder/submission
# What is picked is passed on as it is, links included: grade follows none of the
# student's and gives a linked submission 0 with the reason.
if [ -d "$submission/assignments/{name}" ] || [ -L "$submission/assignments" ] || [ -L "$submission/assignments/{name}" ]; then
  submission="$submission/assignments/{name}"  # a repository (Gradescope's GitHub upload)
elif [ ! -f "$submission/{first_file}" ] && [ ! -L "$submission/{first_file}" ]; then
  notebook=$(ls -d "$submission"/*.ipynb 2>/dev/null | head -n 1)
  script=$(ls -d "$submission"/*.py 2>/dev/null | head -n 1)
  if [ -n "$notebook" ]; then submission="$notebook"; elif [ -n "$script" ]; then submission="$script"; fi
fi
status=0
timeout {seconds} /autograder/venv/bin/grade {name} --root /autograder/source --hidden /autograder/source \\
  --submission "$submission" --format gradescope -o "$results" 2>"$log" || status=$?
cat "$log" >&2
if [ "$status" != 0 ] && [ "$status" != 1 ] || [ ! -f "$results" ]; then
  if [ "$status" = 124 ]; then why="it ran out of time"; else why="it stopped with status $status"; fi
  reason="The grader did not finish ($why): $(tail -n 1 "$log" | cut -c 1-400) Your instructor will regrade this submission."
  fresh="$results.fallback.$$"
  /autograder/venv/bin/grade {name} --root /autograder/source --hidden /autograder/source \\
    --format gradescope --fallback "$reason" -o "$fresh" || cat > "$fresh" <<'JSON'
{{"score": 0, "output": "The grader did not finish (it crashed or ran out of time). Your instructor will regrade this submission.", "tests": []}}
JSON
  mv -f "$fresh" "$results"
fi
rm -f "$log"
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
        for folder, place in bundle_trees(assignment):  # the bundle: everything that decides a score
            _add_tree(z, folder, place)
        _add_tree(z, GRADER_ROOT / "grader", "grader-package/grader")
        for extra in ("pyproject.toml", "README.md"):
            z.write(GRADER_ROOT / extra, f"grader-package/{extra}")
    target.write_bytes(buf.getvalue())
    return target


def _add_tree(z: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        skipped = {"__pycache__", ".ipynb_checkpoints"} & set(path.parts) or path.suffix == ".pyc"
        if path.is_file() and not skipped and not path.is_symlink():
            z.write(path, f"{prefix}/{path.relative_to(folder)}")
