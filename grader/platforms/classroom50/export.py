"""``grade export classroom50 hwN``: the per-assignment bundle a Classroom 50 teacher
publishes (copied into the config repository's ``<classroom>/autograders/<slug>/``).

It holds ``autograder.py`` (the entry point the runner runs, copied from this folder),
``grader.json`` (its settings: the assignment, the time limit, what to install, the
fallback result's tests), the autograder bundle (``assignments/<name>/`` and
``reference/<name>/``: manifest, public and hidden checks, data, labels) and the
grader's own source, which ``autograder.py`` installs. Classroom 50 fetches the bundle
from the teacher's Pages site, capped at 10 MB, and anyone who knows its address (a
student does) can download it: hidden checks are not secret there, and the
authoritative grade stays with the instructor's regrade.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ...errors import GraderError
from ...manifest import Assignment
from ...release import PACKAGE, platform_files
from ..install import TORCH_INDEX, TORCH_SPEC, extra_packages
from . import result

ENTRY_POINT = Path(__file__).with_name("autograder.py")
MAX_BUNDLE_BYTES = 10 * 1024 * 1024  # what Classroom 50's runner fetches at most (compressed)


def config(assignment: Assignment, *, time_limit_minutes: int) -> dict:
    install = [
        ["{venv}/bin/python", "-m", "pip", "install", "--quiet", TORCH_SPEC, "--index-url", TORCH_INDEX],
        ["{venv}/bin/python", "-m", "pip", "install", "--quiet", f"{{bundle}}/{PACKAGE}", *extra_packages(assignment)],
    ]
    return {
        "name": assignment.name,
        "title": assignment.title,
        "time_limit_seconds": time_limit_minutes * 60,
        "install": install,
        "grade": ["{venv}/bin/grade"],
        "fallback_tests": result.fallback_tests(assignment),
    }


def export(assignment: Assignment, out: Path, *, time_limit_minutes: int = 10) -> Path:
    """Writes ``out/<name>-classroom50/``; refused (GraderError) over Classroom 50's size cap."""
    target = Path(out) / f"{assignment.name}-classroom50"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    files = platform_files(assignment)
    size = sum(path.stat().st_size for path, _ in files)
    if size > MAX_BUNDLE_BYTES * 3:  # text compresses about 3x; over that it cannot fit
        raise GraderError(
            f"{assignment.name}: the Classroom 50 bundle would hold {size / 1e6:.1f} MB, over the "
            f"{MAX_BUNDLE_BYTES // (1024 * 1024)} MB Classroom 50 fetches: keep large data out of assignments/ and reference/"
        )
    for path, place in files:
        (target / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / place)
    shutil.copyfile(ENTRY_POINT, target / "autograder.py")
    (target / "autograder.py").chmod(0o755)
    settings = config(assignment, time_limit_minutes=time_limit_minutes)
    (target / "grader.json").write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return target
