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
        # frames come from the worker: only [path, line, name, code] of the right types
        self.frames = [f for f in (frames if isinstance(frames, list) else []) if _frame(f)]
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


def _frame(f) -> bool:
    return isinstance(f, list) and len(f) == 4 and type(f[1]) is int and all(isinstance(v, str) for v in (f[0], f[2], f[3]))


def clean_uses(uses) -> list[dict]:
    """Forbidden-API uses as the worker reported them, with only fields of the right
    types (the worker's reply is the submission's to forge): at most three."""
    clean = []
    for u in uses if isinstance(uses, list) else []:
        if not isinstance(u, dict):
            continue
        line = u.get("line")
        clean.append({
            **{k: str(u[k])[:200] for k in ("api", "group", "function", "path", "code") if isinstance(u.get(k), str)},
            "line": line if type(line) is int and line >= 0 else 0,
        })  # fmt: skip
        if len(clean) == 3:
            break
    return clean
