"""Result files, written whole or not at all.

The text goes to a fresh temporary file in the target's folder, then ``os.replace``
puts it in place in one step: a reader (or a fallback script) sees the old file or
the new one, never half of one, and whatever stood at the path before is replaced,
not written through (a link planted there points nowhere afterwards).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import GraderError


def write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if hasattr(os, "fchmod"):  # not on Windows (before 3.13), where modes mean little
                os.fchmod(f.fileno(), 0o644)  # as an ordinary file would be, not mkstemp's 0600
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def discard(path: Path) -> None:
    """Removes a stale result before grading starts, so a run that dies leaves none, and
    makes the result's folder: a path that cannot take it is refused now, not once the
    grading is done and would be lost."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise GraderError(f"-o {path} is a folder; give a file name")
    steps = (
        (lambda: path.parent.mkdir(parents=True, exist_ok=True), None),
        (lambda: path.unlink(missing_ok=True), path),
        (lambda: tempfile.TemporaryFile(dir=path.parent).close(), path.parent),  # what write_text will need
    )
    for step, where in steps:
        try:
            step()
        except OSError as e:
            raise GraderError(f"cannot write -o {path}: {e.strerror or e} ({where or e.filename}); choose a folder you can write to") from None
