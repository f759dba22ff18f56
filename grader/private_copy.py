"""A root grader's private copy of the assignment definition and the hidden material.

When the grader runs as root, workers run as uids of their own. The instructor's
files are usually world-readable (0644 in 0755 folders), so at a weak tier (no new
root, no Landlock) such a uid could still read them. Before any student code runs,
the trusted side therefore copies the definition (manifest, public checks, data) and
the reference (solution, hidden checks, labels) into a 0700 folder of its own and
grades from there. The instructor's files are never chmod'ed. One copy per grading
process and source, removed when the process exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from . import manifest as manifest_mod
from .manifest import Assignment

TRUSTED_PREFIX = "grader-trusted-"
_IGNORE = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc", ".git")
_copies: dict[tuple, tuple[Assignment, Path | None]] = {}
_origins: dict[str, tuple[str, ...]] = {}  # copied assignment folder -> the instructor's folders it came from


def needed() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0  # no uids on Windows: nothing to hide from


def private(assignment: Assignment, hidden_dir: Path | None) -> tuple[Assignment, Path | None]:
    """(assignment, hidden folder) read from a 0700 copy; the same objects back when not root."""
    if not needed():
        return assignment, hidden_dir
    reference = hidden_dir if hidden_dir is not None else assignment.reference_dir
    # the content's fingerprint is part of the key: an edited check is copied afresh
    key = (os.getpid(), str(assignment.directory), str(reference), hidden_dir is not None, _fingerprint(assignment.directory), _fingerprint(reference))
    if key not in _copies:
        _copies[key] = _copy(assignment, reference, hidden_dir is not None)
        _origins[str(_copies[key][0].directory)] = (str(assignment.directory), str(reference), str(reference.parent))
    return _copies[key]


def origins(assignment: Assignment) -> tuple[str, ...]:
    """The instructor's folders a private copy was made from (to keep protecting them)."""
    return _origins.get(str(assignment.directory), ())


def _fingerprint(folder: Path) -> tuple:
    out = []
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git", ".ipynb_checkpoints"))
        for name in sorted(files):
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            out.append((os.path.relpath(os.path.join(dirpath, name), folder), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _copy(assignment: Assignment, reference: Path, given: bool) -> tuple[Assignment, Path | None]:
    # 0700, root's; named by our pid so that a later run sweeps it if we are killed
    base = Path(tempfile.mkdtemp(prefix=f"{TRUSTED_PREFIX}{os.getpid()}-"))
    atexit.register(shutil.rmtree, base, True)
    folder = base / "assignments" / assignment.name
    shutil.copytree(assignment.directory, folder, ignore=_IGNORE, symlinks=True)
    copied_reference = None
    if reference.is_dir():
        copied_reference = base / "reference" / assignment.name
        shutil.copytree(reference, copied_reference, ignore=_IGNORE, symlinks=True)
    # paths in the manifest that point outside the assignment folder (labels under
    # reference/) are relative to the course root; the copy keeps that shape
    copy = manifest_mod.load(folder, base)
    return copy, (copied_reference if given else None)
