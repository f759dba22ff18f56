"""What a student supplied, as the trusted side reads it: never through a symbolic link.

A submission (an upload, an entry of a batch folder, a repository: git keeps links) is
the student's to shape, links included, and a link may point at the reference, the
bundle or the whole host. So the trusted side follows none that comes with it:

- the submission path itself, and the folders the grader looks for below an upload or
  repository root (``assignments/``, ``assignments/<name>/``), are checked one
  component at a time with ``lstat`` (``first_link``, ``refuse_links``);
- student files are read with ``O_NOFOLLOW`` at every component (``read_bytes``);
- listings (``walk``) report a link as an entry and never descend into one.

What lies above the submission is the instructor's or the platform's (the batch
folder, ``--root``, ``/autograder/submission``, a ``/tmp`` that is a link on macOS) and
may be a link. A linked submission is the student's mistake: ``LinkedSubmission``, a
result of 0 with the reason, never a grader error.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import SubmissionError

LINKED = "{} is a symbolic link; submit the files themselves"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_AT = bool(_NOFOLLOW) and os.open in os.supports_dir_fd  # openat() one component at a time


class LinkedSubmission(SubmissionError):
    """The submission is, or holds where the grader looks, a symbolic link: graded 0 with the reason."""


def first_link(base: Path, rel: str | Path) -> str | None:
    """The first component of ``rel`` below ``base`` (as ``a/b``) that is a symbolic link,
    or None. ``base`` itself is not looked at; a missing component ends the search."""
    if Path(rel).is_absolute():
        return None  # not below base: nothing the student supplied
    parts = [p for p in Path(rel).parts if p not in ("", ".")]
    for i in range(1, len(parts) + 1):
        if parts[i - 1] == "..":
            return None  # not below base: nothing the student supplied
        sub = "/".join(parts[:i])
        try:
            mode = os.lstat(Path(base) / sub).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return sub
    return None


def supplied(path: Path, name: str) -> tuple[Path, str]:
    """(where what the student supplied begins, that part) for a submission path: its
    last component, or ``assignments/<name>`` below a repository or upload root."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        return path, ""
    if path.name == name and path.parent.name == "assignments":
        return path.parent.parent, f"assignments/{name}"
    return path.parent, path.name


def refuse_links(path: Path, name: str) -> None:
    """Raises LinkedSubmission if the submission path, or a folder the grader took below
    the student's root, is a symbolic link."""
    base, rel = supplied(path, name)
    link = first_link(base, rel)
    if link is not None:
        raise LinkedSubmission(LINKED.format(link))


def nested(root: Path, name: str) -> Path | None:
    """``root/assignments/<name>`` when ``root`` (a repository or an upload) holds it as a
    real folder, or as a link (to be refused, not looked past); otherwise None."""
    folder = Path(root) / "assignments" / name
    if first_link(root, f"assignments/{name}") is not None:
        return folder
    return folder if folder.is_dir() else None


def read_bytes(base: Path, rel: str | Path, *, limit: int | None = None) -> bytes:
    """The bytes of the plain file ``base/rel``, opened without following a link at any
    component below ``base``. OSError (ELOOP for a link) when it cannot be read so."""
    parts = [p for p in Path(rel).parts if p not in ("", ".")]
    if not parts or ".." in parts or Path(rel).is_absolute():
        raise OSError(errno.EINVAL, "not a path below the submission", str(Path(base) / rel))
    if _AT:
        fd = _open_at(Path(base), parts)
    else:  # no openat (Windows): look first, then open
        if first_link(base, rel) is not None:
            raise OSError(errno.ELOOP, "a symbolic link", str(Path(base) / rel))
        fd = os.open(Path(base) / rel, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a plain file", str(Path(base) / rel))
        if limit is not None and info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit >> 20} MiB", str(Path(base) / rel))
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def _open_at(base: Path, parts: list[str]) -> int:
    folder = os.open(base, os.O_RDONLY | _DIRECTORY)  # base is the instructor's: it may be a link
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=folder)
            os.close(folder)
            folder = inner
        return os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=folder)
    finally:
        os.close(folder)


def walk(base: Path, rel: str = "", *, skip: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, str]]:
    """What lies at and below ``base/rel``, never through a link: sorted (path relative to
    ``base``, kind) with kind ``file`` (a plain file), ``link`` (a symbolic link, its
    target never looked at) or ``other`` (a fifo, a socket, a device). Folders are
    descended into, not listed; those named in ``skip`` are left out. A link at ``rel``
    or above it is the one entry; nothing when ``base/rel`` does not exist."""
    rel = "/".join(p for p in Path(rel).parts if p not in ("", "."))
    if rel:
        link = first_link(base, rel)
        if link is not None:
            return [(link, "link")]
    start = Path(base) / rel if rel else Path(base)
    try:
        mode = os.lstat(start).st_mode if rel else os.stat(start).st_mode
    except OSError:
        return []
    if not stat.S_ISDIR(mode):
        return [(rel, _kind(mode))] if rel else []
    out: list[tuple[str, str]] = []
    pending = [(start, rel)]
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name in skip:
                continue
            inner = f"{prefix}/{entry.name}" if prefix else entry.name
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                pending.append((Path(entry.path), inner))
            else:
                out.append((inner, _kind(mode)))
    return sorted(out)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    return "file" if stat.S_ISREG(mode) else "other"
