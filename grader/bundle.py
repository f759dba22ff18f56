"""Trusted inputs: the autograder bundle, and what a student may change.

A bundle (``grade build --out``) carries the whole assignment definition:
``assignments/<name>/`` (manifest, public checks, data, notebook, stubs) beside
``reference/<name>/`` (solution, hidden checks, labels). When one is given, all that
decides a score comes from it; a student's repository or upload supplies only the
files the manifest names as theirs. Edits to anything else are ignored for scoring
and listed by ``modified``.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import manifest as manifest_mod
from .errors import GraderError
from .manifest import Assignment

SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def locate(name: str, path: Path) -> Assignment:
    """The assignment as the bundle at ``path`` defines it. ``path`` is the bundle's root
    or its ``reference/<name>`` folder (what the Classroom workflow passes)."""
    where = Path(path).resolve()
    candidates = [where]
    if where.name == name and where.parent.name == "reference":
        candidates.append(where.parent.parent)
    for root in candidates:
        if (root / "assignments" / name / manifest_mod.MANIFEST).is_file() and (root / "reference" / name).is_dir():
            return manifest_mod.load(root / "assignments" / name, root)
    raise GraderError(
        f"--hidden {path} is not a full autograder bundle for {name} (it needs assignments/{name}/{manifest_mod.MANIFEST} "
        f"beside reference/{name}/): rebuild it with `grade build {name} --out DIR` and pass DIR/{name}-autograder"
    )


def student_files(assignment: Assignment) -> set[str]:
    """Paths, inside the assignment folder, that are the student's to write."""
    names = set(assignment.files) | {f"{assignment.name}.ipynb"}
    if assignment.competition is not None:
        names.add(assignment.competition.program)
    return names


def layout(path: Path, name: str) -> tuple[Path | None, Path]:
    """(the student's repository root if ``path`` is or holds one, the assignment folder)."""
    path = Path(path)
    nested = path / "assignments" / name
    if nested.is_dir():
        return path, nested
    if path.name == name and path.parent.name == "assignments":
        return path.parent.parent, path
    return None, path


def modified(path: Path, assignment: Assignment) -> list[str]:
    """What a student's copy changes of the trusted definition: edited or deleted files of
    the assignment folder (student files aside), files added beside the public checks,
    and changed workflows. ``path`` is a repository, an assignment folder or an upload."""
    if not Path(path).is_dir():
        return []
    repo, folder = layout(Path(path), assignment.name)
    mine = student_files(assignment)
    trusted = {rel: full for rel, full in _files(assignment.directory) if rel not in mine}
    flags = []
    for rel, ours in sorted(trusted.items()):
        theirs = folder / rel
        if theirs.is_file() and not theirs.is_symlink():
            if theirs.read_bytes() != ours.read_bytes():
                flags.append(rel)
        elif theirs.exists() or theirs.is_symlink():
            flags.append(f"{rel} (not a plain file)")
        elif repo is not None:  # a clone of the release has every file; an upload need not
            flags.append(f"{rel} (deleted)")
    public = os.path.relpath(assignment.public_tests, assignment.directory)
    if not public.startswith(".."):
        for rel, _ in _files(folder / public, prefix=public):
            if rel not in trusted and rel not in mine:
                flags.append(f"{rel} (added)")
    if repo is not None:
        flags += _workflow_changes(repo, assignment)
    return flags


def _workflow_changes(repo: Path, assignment: Assignment) -> list[str]:
    from .workflow import FALLBACK_FILE, fallback_file, workflow

    released = {".github/workflows/classroom.yml": workflow(assignment), FALLBACK_FILE: fallback_file(assignment)}
    theirs = {rel: full for rel, full in _files(repo / ".github", prefix=".github")}
    flags = []
    for rel, full in sorted(theirs.items()):
        if rel.startswith(".github/workflows/") or rel in released:
            if released.get(rel) != full.read_text(encoding="utf-8", errors="replace"):
                flags.append(rel)
    return flags


def _files(folder: Path, prefix: str = "") -> list[tuple[str, Path]]:
    if not folder.is_dir():
        return []
    out = []
    for full in sorted(folder.rglob("*")):
        rel = full.relative_to(folder)
        if SKIP_PARTS & set(rel.parts) or full.suffix == ".pyc" or full.is_dir():
            continue
        out.append((str(Path(prefix) / rel) if prefix else str(rel), full))
    return out
