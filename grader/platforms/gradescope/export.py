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
from ...release import GRADER_ROOT, PACKAGE, platform_files  # noqa: F401 (GRADER_ROOT: its old home)
from ..install import TORCH, packages

# Gradescope builds the image from its Ubuntu 22.04 base, whose python3 is 3.10, as
# root. The venv keeps the grader and its pins apart from the image's own packages.
SETUP = """#!/usr/bin/env bash
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip python3-venv ca-certificates coreutils
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup.sh: the grader needs Python 3.10 or newer; this image has $(python3 --version 2>&1)" >&2
  exit 1
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install {torch}
/autograder/venv/bin/python -m pip install /autograder/source/{package}{packages}
/autograder/venv/bin/grade --version
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
        "setup.sh": SETUP.format(torch=TORCH, package=PACKAGE, packages=packages(assignment)),
        "run_autograder": RUN.format(name=assignment.name, first_file=first_file, seconds=time_limit_minutes * 60),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope runs them
            z.writestr(info, text)
        for path, place in platform_files(assignment):  # the bundle (all that decides a score) and the grader
            z.write(path, place)
    target.write_bytes(buf.getvalue())
    return target
