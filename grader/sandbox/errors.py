"""Failures of student code, as the trusted side describes them.

Each carries a one-line message meant for the student. The pytest plugin turns any
of these into a failed check showing that message instead of a traceback.
"""

from __future__ import annotations


class StudentError(Exception):
    """Student code failed; ``str(error)`` is the message the student sees."""

    status = "fail"
    output = ""  # what the student printed during the failing call

    def __init__(self, message: str, *, frames: list | None = None, **info):
        super().__init__(message)
        self.message = message
        self.frames = [f for f in (frames or []) if isinstance(f, list) and len(f) == 4]
        self.info = info

    def where(self) -> str:
        """The innermost student frame, as 'file, line N: code'."""
        if not self.frames:
            return ""
        path, line, _name, code = self.frames[-1]
        return f"{path}, line {line}: {str(code).strip()}"


class StudentNotImplemented(StudentError):
    pass


class StudentMissing(StudentError):
    pass


class StudentImportError(StudentError):
    pass


class StudentException(StudentError):
    pass


class StudentTimeout(StudentError):
    pass


class StudentCrash(StudentError):
    pass


class StudentBadOutput(StudentError):
    pass


class StudentForbidden(StudentError):
    """The code called an API its task forbids: the whole task scores 0."""


def forbidden_message(function: str, uses: list[dict], place=lambda path, line: f"{path}, line {line}") -> str:
    """``uses`` as the worker reports them; ``place(path, line)`` says where, in the student's terms."""
    said = "; ".join(
        str(u.get("api", "a forbidden API"))[:80]
        + (f" at {place(str(u.get('path'))[:80], int(u.get('line') or 0))}" if u.get("path") else "")
        + (f": {str(u.get('code'))[:120]}" if u.get("code") else "")
        for u in uses[:3]
    )
    return f"`{function}` used an API its task forbids: {said} (the whole task scores 0)"
