"""A class roster: which repository is whose, and which of them a shard grades.

The roster is a CSV with a header holding ``student`` and ``repository`` columns (others
are ignored). ``repository`` is ``owner/name`` on GitHub, or anything ``git clone``
takes (a URL, or a path: how a course tries the workflow on local folders). The student
id names the submission's folder, so it must be a plain file name; the shard a student
falls in is decided by this id alone (shards.py), as ``grade batch --shard`` decides it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import GraderError
from .shards import Shard

STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
GITHUB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Entry:
    student: str
    repository: str  # as the roster gives it: owner/name, a URL or a path

    @property
    def clone_url(self) -> str:
        if GITHUB_RE.match(self.repository) and not Path(self.repository).exists():
            return f"https://github.com/{self.repository}.git"
        return self.repository


def read(path: Path) -> list[Entry]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise GraderError(f"roster {path} cannot be read: {e}") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    if "student" not in columns or "repository" not in columns:
        raise GraderError(f"roster {path}: the first line must name the columns student,repository (it has: {','.join(columns) or 'nothing'})")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        student, repository = row.get("student", ""), row.get("repository", "")
        if not student and not repository:
            continue
        if not STUDENT_RE.match(student):
            raise GraderError(f"roster {path}, line {line}: student {student!r} must be letters, digits, '_', '.' or '-' (it names a folder)")
        if not repository or repository.startswith("-"):
            raise GraderError(f"roster {path}, line {line}: {student} has no repository (give owner/name, a URL or a path)")
        if student in seen:
            raise GraderError(f"roster {path}, line {line}: {student} is already on line {seen[student]}; one line per student")
        seen[student] = line
        entries.append(Entry(student, repository))
    return entries


def of_shard(entries: list[Entry], shard: Shard) -> list[Entry]:
    return [e for e in entries if shard.holds(e.student)]
