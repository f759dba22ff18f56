"""Submissions: a folder, a single ``.py`` file, or a ``.ipynb`` notebook.

All three become the same thing: files to copy into a worker's fresh working folder
and, for each student file the manifest names, the path of the module that provides
it. A notebook becomes one module that provides every student file.

No symbolic link of the submission is followed (see ``uploads``): a linked submission,
or a linked student file in a folder, is refused with the reason (LinkedSubmission);
any other link in a folder is left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import colab, uploads
from .errors import SubmissionError
from .manifest import Assignment
from .notebook import NotebookModule, to_module

NOTEBOOK_MODULE = "_notebook_submission.py"
MAX_FILES = 2000
MAX_BYTES = 200 * 1024 * 1024
SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", "node_modules", ".pytest_cache"}


@dataclass(frozen=True)
class Submission:
    path: Path
    kind: str  # "folder", "file" or "notebook"
    files: tuple[tuple[str, str], ...]  # (path in the worker's folder, path on disk)
    texts: tuple[tuple[str, str], ...] = ()  # (path in the worker's folder, text) for generated modules
    modules: dict = field(default_factory=dict)  # manifest file -> module path in the worker's folder
    notebook: NotebookModule | None = None

    def shown(self, module_path: str) -> str:
        """The name a student knows a module by (their notebook, not our generated file)."""
        return self.path.name if module_path == NOTEBOOK_MODULE else module_path

    def locate(self, module_path: str, lineno: int) -> str:
        if module_path == NOTEBOOK_MODULE and self.notebook is not None:
            return self.notebook.locate(lineno)
        return f"line {lineno}"


def load(path: Path, assignment: Assignment) -> Submission:
    path = Path(path)
    supplied = path != assignment.directory  # the definition's own folder is a self-check, not an upload
    if supplied:
        uploads.refuse_links(path, assignment.name)  # before exists(): a dangling link is a link too
    if not path.exists():
        raise SubmissionError(f"submission {path} does not exist")
    if path.is_dir():
        if supplied:
            _refuse_linked_student_files(path, assignment)
        files = _folder_files(path)
        return Submission(path=path, kind="folder", files=files, modules={f: f for f in assignment.files})
    suffix = path.suffix.lower()
    if suffix == ".py":
        if path.name in assignment.files:
            modules = {f: f for f in assignment.files}
        else:  # any other name provides every student file, as a notebook does
            modules = {f: path.name for f in assignment.files}
        return Submission(path=path, kind="file", files=((path.name, str(path)),), modules=modules)
    if suffix == ".ipynb":
        try:
            text = uploads.read_bytes(path.parent, path.name, limit=MAX_BYTES).decode("utf-8")
        except OSError as e:
            raise SubmissionError(f"{path.name} cannot be read: {e.strerror or e}") from None
        except UnicodeDecodeError as e:
            raise SubmissionError(f"{path.name} cannot be read: {e}") from None
        nb = to_module(text, path.name)
        return Submission(
            path=path,
            kind="notebook",
            files=(),
            texts=((NOTEBOOK_MODULE, nb.source),) + colab.for_source(nb.source),  # a Colab notebook's drive.mount
            modules={f: NOTEBOOK_MODULE for f in assignment.files},
            notebook=nb,
        )
    raise SubmissionError(f"cannot grade {path.name}: submit a folder, a .py file or a .ipynb notebook")


def require_readable(submission: Submission) -> None:
    """Every file a worker gets can be opened by this process, which copies it in: one
    that cannot is named now, in one line, rather than as a failed check per worker."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for rel, src in submission.files:
        try:
            os.close(os.open(src, flags))
        except OSError as e:
            where = f"{rel} in {submission.path}" if submission.kind == "folder" else str(submission.path)
            raise SubmissionError(
                f"cannot grade {where}: it cannot be read ({e.strerror or e}); make it readable (chmod u+r) or move it out"
            ) from None


def restricted(submission: Submission, names: set[str]) -> Submission:
    """A folder cut down to the files the student supplies: the rest of a graded run
    (checks, manifest, data) comes from the trusted copy, never from the submission."""
    if submission.kind != "folder":
        return submission
    return replace(submission, files=tuple((rel, src) for rel, src in submission.files if rel in names))


def _refuse_linked_student_files(folder: Path, assignment: Assignment) -> None:
    """A student file that is a link (or lies in a linked folder) is refused, not skipped:
    the student learns why, rather than that their function is missing."""
    from .bundle import student_files

    _, supplied = uploads.supplied(folder, assignment.name)
    shown = f"{supplied}/" if supplied == f"assignments/{assignment.name}" else ""
    for rel in sorted(student_files(assignment)):
        link = uploads.first_link(folder, rel)
        if link is not None:
            raise uploads.LinkedSubmission(uploads.LINKED.format(shown + link))


def _folder_files(root: Path) -> tuple[tuple[str, str], ...]:
    out = []
    total = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not os.path.islink(os.path.join(folder, d)))
        for name in sorted(names):
            full = os.path.join(folder, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue  # links could point at the grader's own files
            total += os.path.getsize(full)
            out.append((os.path.relpath(full, root), full))
            if len(out) > MAX_FILES or total > MAX_BYTES:
                raise SubmissionError(
                    f"submission {root} is too large (over {MAX_FILES} files or {MAX_BYTES >> 20} MiB); remove data or build outputs"
                )
    return tuple(out)
