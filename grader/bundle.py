"""Trusted inputs: the autograder bundle, and what a student may change.

A bundle (``grade build --out``) carries the whole assignment definition:
``assignments/<name>/`` (manifest, public checks, data, notebook, stubs) beside
``reference/<name>/`` (solution, hidden checks, labels). When one is given, all that
decides a score comes from it; a student's repository or upload supplies only the
files the manifest names as theirs. Edits to anything else are ignored for scoring
and listed by ``modified``, which reads the student's copy without following a link.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from . import manifest as manifest_mod
from . import uploads
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
    """(the student's repository root if ``path`` is or holds one, the assignment folder).
    A linked ``assignments/<name>`` is still taken as the folder, to be refused, never
    looked past."""
    path = Path(path)
    nested = uploads.nested(path, name)
    if nested is not None:
        return path, nested
    if path.name == name and path.parent.name == "assignments":
        return path.parent.parent, path
    return None, path


def modified(path: Path, assignment: Assignment) -> list[str]:
    """What a student's copy changes of the trusted definition: edited or deleted files of
    the assignment folder (student files aside), files added beside the public checks,
    and changed workflows. ``path`` is a repository, an assignment folder or an upload.
    Nothing of it is read through a symbolic link: a link is listed as itself (``tests
    (a symbolic link)``), and what it points at is never walked nor named."""
    path = Path(path)
    repo, folder = layout(path, assignment.name)
    base, supplied = (repo, f"assignments/{assignment.name}") if repo is not None else uploads.supplied(folder, assignment.name)
    link = uploads.first_link(base, supplied)
    if link is not None:
        return [f"{link} (a symbolic link)"]
    if not folder.is_dir():
        return []
    mine = student_files(assignment)
    trusted = {rel: full for rel, full in _files(assignment.directory) if rel not in mine}
    flags = []
    links: set[str] = set()  # each link once, however many trusted files lie below it
    for rel, ours in sorted(trusted.items()):
        link = uploads.first_link(folder, rel)
        if link is not None:
            if link not in links:
                links.add(link)
                flags.append(f"{link} (a symbolic link)")
            continue
        try:
            mode = os.lstat(folder / rel).st_mode
        except OSError:
            if repo is not None:  # a clone of the release has every file; an upload need not
                flags.append(f"{rel} (deleted)")
            continue
        if not stat.S_ISREG(mode):
            flags.append(f"{rel} (not a plain file)")
            continue
        try:
            theirs = uploads.read_bytes(folder, rel)
        except OSError:
            flags.append(f"{rel} (not a plain file)")
            continue
        if theirs != ours.read_bytes():
            flags.append(rel)
    public = os.path.relpath(assignment.public_tests, assignment.directory)
    if not public.startswith(".."):
        for rel, kind in uploads.walk(folder, public, skip=SKIP_PARTS):
            if rel in links or rel in mine or rel.endswith(".pyc"):
                continue
            if kind == "link":
                flags.append(f"{rel} (a symbolic link)")
            elif rel not in trusted:
                flags.append(f"{rel} (added)" if kind == "file" else f"{rel} (added, not a plain file)")
    if repo is not None:
        flags += _workflow_changes(repo, assignment)
    return flags


def _workflow_changes(repo: Path, assignment: Assignment) -> list[str]:
    from .platforms.github.workflow import released_files

    released = released_files(assignment)

    def counts(rel: str) -> bool:  # a workflow, a released file, or a folder that holds them
        return rel.startswith(".github/workflows/") or rel in released or rel in (".github", ".github/workflows")

    flags = []
    for rel, kind in uploads.walk(repo, ".github"):
        if not counts(rel):
            continue
        if kind == "link":
            flags.append(f"{rel} (a symbolic link)")
        elif kind != "file":
            flags.append(f"{rel} (not a plain file)")
        elif released.get(rel) != uploads.read_bytes(repo, rel).decode("utf-8", errors="replace"):
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
